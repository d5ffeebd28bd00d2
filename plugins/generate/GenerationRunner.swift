import DiffusionProtocol
import Engine
import Foundation
import Imaging
import PluginAPI
import StrictJSON
import Tensor

/// Runs a `GenerationRequest` inside a job: model from the shared cache, progress per step, cancellation
/// between steps, previews, and delivery of each image with its A1111 `parameters` text chunk.
public struct GenerationRunner {
    public let context: JobContext

    public init(context: JobContext) {
        self.context = context
    }

    public func model(_ params: [String: JSONValue]) throws -> LoadedModel {
        guard let name = params["model"]?.stringValue else { throw PluginError.invalidParam(field: "model", reason: "is required") }
        context.progress(stage: "load_model", step: 0, steps: 1)
        do {
            let model = try context.models.stableDiffusion(named: name)
            context.progress(stage: "load_model", step: 1, steps: 1)
            return model
        } catch let e as EngineError {
            throw PluginError.invalidParam(field: "model", reason: e.description)
        }
    }

    public func run(_ request: GenerationRequest, model: LoadedModel, params: [String: JSONValue],
                    outputs: [ImageOutput]) throws -> JSONValue {
        let pipeline = StableDiffusionPipeline(model: model)
        do { try pipeline.validate(request) } catch let e as EngineError { throw Self.pluginError(e) }
        let preview = try previewTarget(params)
        let steps: Int
        do { steps = try pipeline.plan(for: request).steps } catch {
            let field = request.initImage != nil && "\(error)".contains("strength") ? "strength" : "steps"
            throw PluginError.invalidParam(field: field, reason: "\(error)")
        }
        try context.checkCancelled()
        let token = context.cancellation
        let hooks = StableDiffusionPipeline.Hooks(
            isCancelled: { token.isCancelled },
            onStep: { step in
                context.progress(stage: "sampling", step: step.step, steps: steps)
                if let preview, step.step % preview.every == 0 || step.step == step.steps {
                    try writePreview(step.denoised, to: preview.output)
                }
            })
        let result: GenerationResult
        do {
            result = try pipeline.run(request, hooks: hooks)
        } catch let e as EngineError {
            if case .cancelled = e { try context.checkCancelled() }
            throw Self.pluginError(e)
        }
        try context.checkCancelled()
        context.progress(stage: "decode", step: 1, steps: 1)

        var images: [JSONValue] = []
        for (i, seed) in result.seeds.enumerated() {
            let text = GenerationInfo.parameters(request, seed: seed, modelName: model.name)
            let image = try VipsImage(tensor: result.decoded[batch: i]).settingText("parameters", text)
            var described = try context.deliver(image, to: outputs[i], field: outputs.count > 1 ? "outputs[\(i)]" : "output")
            if case .object(var o) = described {
                o["seed"] = JSONValue(Int(clamping: seed))
                o["parameters"] = .string(text)
                described = .object(o)
            }
            images.append(described)
        }
        return [
            "images": .array(images),
            "seeds": .array(result.seeds.map { JSONValue(Int(clamping: $0)) }),
            "model": .string(model.name),
            "sampler": .string(request.sampler.sampler.rawValue),
            "scheduler": .string(request.sampler.schedule.rawValue),
            "steps": JSONValue(steps),
            "timings": ["unet_seconds": .double(result.unetSeconds), "loop_seconds": .double(result.loopSeconds),
                        "total_seconds": .double(context.elapsedSeconds)],
        ]
    }

    struct Preview {
        let every: Int
        let output: ImageOutput
    }

    func previewTarget(_ params: [String: JSONValue]) throws -> Preview? {
        guard let p = params["preview"]?.objectValue, let every = p["every"]?.intValue, let path = p["path"]?.stringValue else { return nil }
        guard (path as NSString).pathExtension.lowercased() == "png" else {
            throw PluginError.invalidParam(field: "preview.path", reason: "must end in .png")
        }
        let output = try context.resolveOutput(["path": .string(path), "overwrite": true], field: "preview.path")
        return Preview(every: every, output: output)
    }

    /// First image of the batch, one pixel per latent cell (cheap approximation, no VAE).
    func writePreview(_ denoised: Tensor, to output: ImageOutput) throws {
        let rgb = LatentPreview.rgb(denoised[batch: 0].reshaped([1] + Array(denoised.shape.dropFirst())))
        let image = try VipsImage(tensor: rgb * Float(2) - Float(1))
        _ = try context.deliver(image, to: output, field: "preview.path")
    }

    static func pluginError(_ e: EngineError) -> PluginError {
        switch e {
        case .invalidSize: return .invalidParam(field: "width", reason: e.description)
        case let .invalidParameter(field, reason): return .invalidParam(field: field, reason: reason)
        case .cancelled: return .cancelled(reason: "request cancelled")
        case .unsupportedModel, .modelNotFound, .upscalerNotFound, .modelLoadFailed, .invalidModelName, .noModelsDirectory:
            return .invalidParam(field: "model", reason: e.description)
        }
    }
}
