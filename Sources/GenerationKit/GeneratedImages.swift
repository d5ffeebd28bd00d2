import StrictJSON
import DiffusionProtocol
import Engine
import Imaging
import PluginAPI

/// Delivers generated images: each with its A1111 `parameters` text chunk, to its destination, described with
/// its seed.
public enum GeneratedImages {
    /// One image; `reportParameters` also puts the text in the described object (generate and img2img do).
    public static func deliver(_ image: VipsImage, index: Int, seed: UInt64, request: GenerationRequest, model: LoadedModel,
                               refiner: RefinerHandoff? = nil,
                               outputs: [ImageOutput], reportParameters: Bool, context: JobContext) throws -> JSONValue {
        let text = GenerationInfo.parameters(request, seed: seed, modelName: model.name, refiner: refiner,
                                             adapters: InfotextAdapters(model: model, request: request, library: context.models.embeddings))
        let described = try context.deliver(try image.settingText("parameters", text), to: outputs[index],
                                            field: GenerationOutputs.field(index: index, count: outputs.count))
        guard case .object(var o) = described else { return described }
        o["seed"] = JSONValue(Int(clamping: seed))
        if reportParameters { o["parameters"] = .string(text) }
        return .object(o)
    }

    /// The repaint operations' result (inpaint and outpaint with a model): `images`, `image` (the first), `model`,
    /// `seeds`, plus the operation's own `extra` members.
    public static func repaintResult(_ results: [VipsImage], request: GenerationRequest, outputs: [ImageOutput], model: LoadedModel,
                                     refiner: RefinerHandoff? = nil,
                                     context: JobContext, extra: [String: JSONValue]) throws -> JSONValue {
        var images: [JSONValue] = []
        for (i, result) in results.enumerated() {
            images.append(try deliver(result, index: i, seed: request.seeds[i], request: request, model: model,
                                      refiner: refiner, outputs: outputs, reportParameters: false, context: context))
        }
        var result: [String: JSONValue] = ["images": .array(images), "image": images.first ?? .null, "model": .string(model.name),
                                           "seeds": .array(request.seeds.prefix(results.count).map { JSONValue(Int(clamping: $0)) })]
        for (k, v) in extra { result[k] = v }
        return .object(result)
    }
}
