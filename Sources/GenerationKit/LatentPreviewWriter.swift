import Engine
import Foundation
import Imaging
import PluginAPI
import Tensor

/// Writes the `preview` PNG during sampling: the first image of the batch, one pixel per latent cell (a cheap
/// approximation, no VAE), every `every` steps and at the last one.
public struct LatentPreviewWriter {
    let every: Int
    let output: ImageOutput
    let context: JobContext

    /// nil without a preview; checks the path (PNG, allowed, overwritable) before any work.
    public init?(_ preview: PreviewParams?, context: JobContext) throws {
        guard let preview else { return nil }
        guard (preview.path as NSString).pathExtension.lowercased() == "png" else {
            throw PluginError.invalidParam(field: "preview.path", reason: "must end in .png")
        }
        self.every = preview.every
        self.output = try context.resolveOutput(["path": .string(preview.path), "overwrite": true], field: "preview.path")
        self.context = context
    }

    public func stepFinished(_ step: PipelineStep) throws {
        guard step.step % every == 0 || step.step == step.steps else { return }
        let denoised = step.denoised
        let rgb = LatentPreview.rgb(denoised[batch: 0].reshaped([1] + Array(denoised.shape.dropFirst())))
        let image = try VipsImage(tensor: rgb * Float(2) - Float(1))
        _ = try context.deliver(image, to: output, field: "preview.path")
    }
}
