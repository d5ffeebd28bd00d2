import Models
import Tensor

/// The 9-channel inpainting UNet's extra inputs: the latent mask and the masked image's latents concatenated
/// after the latents on every step (diffusers' `torch.cat([latents, mask, masked_image_latents], dim=1)`).
struct InpaintUNetInput: UNetInputExtension {
    /// [1, 1, h, w].
    let mask: Tensor
    /// [images, 4, h, w] in latent units.
    let maskedImageLatents: Tensor

    /// Only UNets that take latents + mask + masked-image latents.
    func applies(to unet: UNetConfig) -> Bool {
        unet.inChannels == 2 * maskedImageLatents.shape[1] + 1
    }

    func extend(_ input: inout UNetStepInput, layout: GuidanceBatchLayout) throws {
        input.latents = try LatentInpaintMask.unetInput(latents: input.latents, mask: mask,
                                                        maskedImageLatents: layout.batched(maskedImageLatents))
    }
}
