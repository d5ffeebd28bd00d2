import Engine
import PluginAPI

/// What inpaint and outpaint hand the engine's repaint runs, and how its failures reach the client.
public enum RepaintHooks {
    /// Cancellation from the job's token; sampling progress per step; the `preview` picture, as generate and
    /// img2img write it (its path is checked here, before any sampling).
    public static func make(context: JobContext, preview: PreviewParams?) throws -> StableDiffusionPipeline.Hooks {
        let token = context.cancellation
        let previewWriter = try LatentPreviewWriter(preview, context: context)
        return StableDiffusionPipeline.Hooks(isCancelled: { token.isCancelled },
                                             onStep: { step in
                                                 context.progress(stage: "sampling", step: step.step, steps: step.steps)
                                                 try previewWriter?.stepFinished(step)
                                             })
    }

    /// A cancelled run reports the token's own reason; a parameter error names its field; anything else is the
    /// model's (it cannot repaint this request).
    public static func failure(_ error: EngineError, context: JobContext) throws -> PluginError {
        if case .cancelled = error { try context.checkCancelled() }
        if case .invalidParameter(let field, let reason) = error { return .invalidParam(field: field, reason: reason) }
        return .invalidParam(field: "model", reason: error.description)
    }
}
