import DiffusionProtocol
import Engine
import GeneratePlugin
import Imaging
import PluginAPI
import StrictJSON

/// `inpaint`: repaint the masked part of an image. Outside the (feathered) mask the result equals the input bit
/// for bit, at its bit depth, alpha and size. With `model` the area is repainted (generation parameters as
/// img2img); without it the masked area is filled from its surroundings (edge, blur or content-aware PatchMatch).
public struct InpaintPlugin: OperationPlugin {
    public init() {}

    public let method = "inpaint"
    public let summary = "Repaint the masked area of an image (mask file or the image's alpha) with an inpainting or ordinary model; pixels outside the mask stay bit-identical. Without a model: edge, blur or PatchMatch fill."

    public var paramsSchema: JSONValue {
        var properties = GenerationParams.commonProperties
        let own: [String: JSONValue] = [
            "image": ImageSchemas.input(description: "the image to edit"),
            "mask": MaskParams.sourceSchema,
            "area": ["type": "string", "enum": ["whole", "masked"],
                     "description": "process the whole image, or only the mask's bounding box plus padding (default whole)"],
            "padding": ["type": "integer", "minimum": 0, "maximum": 4096,
                        "description": "pixels of context around the mask for area \"masked\" (default 32)"],
            "fill": ["type": "string", "enum": .array(InpaintFill.names.map { .string($0) }),
                     "description": "what the masked area starts as (default original; without a model default patchmatch)"],
            "color_match": ["type": "boolean",
                            "description": "match the repainted area's colour statistics to its surroundings (default false)"],
            "blend": ["type": "string", "enum": ["hard", "soft"],
                      "description": "soft: grey mask levels honoured during sampling (differential diffusion)"],
            "strength": ["type": "number", "exclusiveMinimum": 0, "maximum": 1,
                         "description": "how much of the schedule to run in the masked area (default 1)"],
            "width": GenerationParams.sizeProperty("processing width", defaultText: "default: the region's width rounded to 8"),
            "height": GenerationParams.sizeProperty("processing height", defaultText: "default: the region's height rounded to 8"),
        ]
        for (key, value) in own { properties[key] = value }
        properties["model"] = ["type": "string", "minLength": 1, "maxLength": 255,
                               "description": "diffusion model (a 9-channel inpainting model or an ordinary one); omit for fill-only inpainting"]
        for (key, value) in MaskParams.optionSchemas { properties[key] = value }
        return ["type": "object", "properties": .object(properties), "required": ["image", "mask"],
                "additionalProperties": false]
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        if params["model"] != nil { return try runWithModel(params: params, context: context) }
        let seed = UInt64(max(0, params["seed"]?.intValue ?? 0))
        guard params["outputs"] == nil, params["preview"] == nil, (params["batch_size"]?.intValue ?? 1) == 1 else {
            throw PluginError.invalidParam(field: "model", reason: "batch_size, outputs and preview need a model")
        }
        let fillName = params["fill"]?.stringValue ?? "patchmatch"
        guard let fill = InpaintFill(name: fillName, seed: seed) else {
            throw PluginError.invalidParam(field: "fill", reason: "must be one of \(InpaintFill.names.joined(separator: ", "))")
        }
        guard fill.changesPixels else {
            throw PluginError.invalidParam(field: "fill", reason: InpaintError.fillNeedsModel(fill: fill.name).description)
        }
        let area: InpaintArea = params["area"]?.stringValue == "masked"
            ? .masked(padding: params["padding"]?.intValue ?? 32) : .whole
        let output = try context.resolveOutput(params["output"], field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(params["image"], field: "image")
        let mask = try MaskParams.resolve(params, image: image, context: context)
        try context.checkCancelled()

        context.progress(stage: "fill", step: 1, steps: 3)
        let token = context.cancellation
        let result: VipsImage
        do {
            result = try MaskParams.imaging(field: "mask") {
                try ModelFreeEdit.inpaint(image: image, mask: mask, fill: fill, area: area,
                                          colorMatch: params["color_match"]?.boolValue ?? false,
                                          shouldCancel: { token.isCancelled })
            }
        } catch PluginError.cancelled {
            // Report the token's own reason (cancel request, disconnect, shutdown), not the fill's.
            try context.checkCancelled()
            throw PluginError.cancelled(reason: "cancelled")
        }
        try context.checkCancelled()
        context.progress(stage: "write", step: 2, steps: 3)
        let described = try context.deliver(result, to: output, field: "output")
        context.progress(stage: "write", step: 3, steps: 3)
        return ["image": described, "fill": .string(fill.name), "area": .string(params["area"]?.stringValue ?? "whole")]
    }

    /// The model path: generation parameters as img2img, then `ModelInpaint` (region, fill, shared sampler loop,
    /// exact composite).
    func runWithModel(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        var request = try GenerationParams.request(from: params)
        request.strength = params["strength"]?.doubleValue ?? 1
        let fillName = params["fill"]?.stringValue ?? "original"
        guard let fill = InpaintFill(name: fillName, seed: request.seed) else {
            throw PluginError.invalidParam(field: "fill", reason: "must be one of \(InpaintFill.names.joined(separator: ", "))")
        }
        var options = ModelInpaint.Options()
        options.fill = fill
        options.area = params["area"]?.stringValue == "masked" ? .masked(padding: params["padding"]?.intValue ?? 32) : .whole
        options.blend = params["blend"]?.stringValue == "soft" ? .soft : .hard
        options.colorMatch = params["color_match"]?.boolValue ?? false
        if params["width"] != nil || params["height"] != nil {
            guard let w = params["width"]?.intValue, let h = params["height"]?.intValue else {
                throw PluginError.invalidParam(field: params["width"] == nil ? "width" : "height", reason: "give both width and height, or neither")
            }
            request.width = w
            request.height = h
            try GenerationParams.checkSize(request)
            options.processingSize = ImageSize(width: w, height: h)
        }
        let outputs = try GenerationParams.outputs(params, batch: request.batchSize, context: context)
        let image = try context.loadImage(params["image"], field: "image")
        let mask = try MaskParams.resolve(params, image: image, context: context)
        try context.checkCancelled()
        let model = try GenerationRunner(context: context).model(params)
        let token = context.cancellation
        let hooks = StableDiffusionPipeline.Hooks(isCancelled: { token.isCancelled },
                                                  onStep: { step in context.progress(stage: "sampling", step: step.step, steps: step.steps) })
        let results: [VipsImage]
        do {
            results = try MaskParams.imaging(field: "mask") {
                try ModelInpaint(model: model).run(image: image, mask: mask, request: request, options: options, hooks: hooks)
            }
        } catch let e as EngineError {
            if case .cancelled = e { try context.checkCancelled() }
            if case .invalidParameter(let field, let reason) = e { throw PluginError.invalidParam(field: field, reason: reason) }
            throw PluginError.invalidParam(field: "model", reason: e.description)
        }
        return try Self.deliver(results, request: request, outputs: outputs, model: model, context: context,
                                extra: ["fill": .string(fill.name), "area": .string(params["area"]?.stringValue ?? "whole")])
    }

    /// Writes each result with its A1111 `parameters` text and reports seeds (shared with outpaint).
    public static func deliver(_ results: [VipsImage], request: GenerationRequest, outputs: [ImageOutput], model: LoadedModel,
                               context: JobContext, extra: [String: JSONValue]) throws -> JSONValue {
        var images: [JSONValue] = []
        for (i, result) in results.enumerated() {
            let seed = request.seeds[i]
            let text = GenerationInfo.parameters(request, seed: seed, modelName: model.name)
            var described = try context.deliver(try result.settingText("parameters", text), to: outputs[i],
                                                field: outputs.count > 1 ? "outputs[\(i)]" : "output")
            if case .object(var o) = described {
                o["seed"] = JSONValue(Int(clamping: seed))
                described = .object(o)
            }
            images.append(described)
        }
        var result: [String: JSONValue] = ["images": .array(images), "image": images.first ?? .null, "model": .string(model.name),
                                           "seeds": .array(request.seeds.prefix(results.count).map { JSONValue(Int(clamping: $0)) })]
        for (k, v) in extra { result[k] = v }
        return .object(result)
    }
}
