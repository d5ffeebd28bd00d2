import Models
import Tensor

/// The depth-to-image UNet's extra input: the prepared depth map (`DepthMap.prepare`) concatenated after the
/// latents on every step, for both halves of the guidance batch (diffusers' `torch.cat([latents, depth], 1)`).
struct DepthUNetInput: UNetInputExtension {
    /// [images, 1, h, w] in [-1, 1].
    let depth: Tensor
    let latentChannels: Int

    func applies(to unet: UNetConfig) -> Bool { unet.inChannels == latentChannels + 1 }

    func extend(_ input: inout UNetStepInput, layout: GuidanceBatchLayout) throws {
        input.latents = concat([input.latents, layout.batched(depth)], axis: 1)
    }
}
