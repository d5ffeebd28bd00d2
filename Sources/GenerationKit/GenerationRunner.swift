import StrictJSON
import DiffusionProtocol
import Engine
import Imaging
import PluginAPI

/// Runs a txt2img/img2img `GenerationRequest` inside a job: validation, progress per step, cancellation between
/// steps, previews, and delivery of each image with its A1111 `parameters` text chunk.
public struct GenerationRunner {
    public let context: JobContext

    public init(context: JobContext) {
        self.context = context
    }

    /// - Parameters:
    ///   - refiner: the SDXL hand-off (`RefinerLookup.handoff`); steps and progress then count both stages.
    ///   - ignored: the result's `ignored` member (`SDXLParams.ignoredMember`), merged in.
    public func run(_ request: GenerationRequest, model: LoadedModel, refiner: RefinerHandoff? = nil,
                    preview: PreviewParams?, outputs: [ImageOutput], ignored: [String: JSONValue] = [:]) throws -> JSONValue {
        let pipeline = StableDiffusionPipeline(model: model)
        do { try pipeline.validate(request, refiner: refiner) } catch let e as EngineError { throw Self.pluginError(e) }
        let previewWriter = try LatentPreviewWriter(preview, context: context)
        let stages: [GenerationStage]
        do { stages = try pipeline.stages(for: request, refiner: refiner) } catch let e as EngineError {
            throw Self.pluginError(e)
        } catch {
            throw PluginError(planning: error, request: request)
        }
        let steps = stages.reduce(0) { $0 + $1.plan.steps }
        try context.checkCancelled()
        let context = self.context
        let token = context.cancellation
        let hooks = StableDiffusionPipeline.Hooks(
            isCancelled: { token.isCancelled },
            onStep: { step in
                context.progress(stage: "sampling", step: step.step, steps: steps)
                try previewWriter?.stepFinished(step)
            })
        let result: GenerationResult
        do {
            result = try pipeline.run(request, refiner: refiner, hooks: hooks)
        } catch let e as EngineError {
            if case .cancelled = e { try context.checkCancelled() }
            throw Self.pluginError(e)
        }
        try context.checkCancelled()
        context.progress(stage: "decode", step: 1, steps: 1)

        var images: [JSONValue] = []
        for (i, seed) in result.seeds.enumerated() {
            images.append(try GeneratedImages.deliver(try VipsImage(tensor: result.decoded[batch: i]), index: i, seed: seed,
                                                      request: request, model: model, refiner: refiner, outputs: outputs,
                                                      reportParameters: true, context: context))
        }
        var members: [String: JSONValue] = [
            "images": .array(images),
            "seeds": .array(result.seeds.map { JSONValue(Int(clamping: $0)) }),
            "model": .string(model.name),
            "sampler": .string(request.sampler.sampler.rawValue),
            "scheduler": .string(request.sampler.schedule.rawValue),
            "steps": JSONValue(steps),
            "timings": ["unet_seconds": .double(result.unetSeconds), "loop_seconds": .double(result.loopSeconds),
                        "total_seconds": .double(context.elapsedSeconds)],
        ]
        if let refiner, let last = stages.last {
            members["refiner"] = RefinerResult.member(refiner, steps: last.plan.steps)
        }
        return .object(members.merging(ignored) { own, _ in own })
    }

    static func pluginError(_ e: EngineError) -> PluginError { PluginError(e, sizeField: "width", modelField: "model") }
}
