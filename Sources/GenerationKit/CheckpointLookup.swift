import Engine
import PluginAPI

/// The one place operation plugins get a Stable Diffusion model (generation, inpaint, outpaint, the upscale
/// refine, models.load): from the job's model host, with load progress, any failure naming `field`.
public enum CheckpointLookup {
    public static func model(named name: String, context: JobContext, field: String = "model",
                             stage: String = "load_model") throws -> LoadedModel {
        context.progress(stage: stage, step: 0, steps: 1)
        do {
            let model = try context.models.stableDiffusion(named: name)
            context.progress(stage: stage, step: 1, steps: 1)
            return model
        } catch let e as EngineError {
            throw PluginError.invalidParam(field: field, reason: e.description)
        }
    }
}
