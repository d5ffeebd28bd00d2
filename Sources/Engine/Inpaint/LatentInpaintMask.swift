import Tensor

/// The mask and masked image a 9-channel inpainting UNet is conditioned on, prepared as diffusers'
/// `StableDiffusionInpaintPipeline` does:
/// - the pixel mask is binarised (≥ 0.5 → 1, the mask processor's `do_binarize`),
/// - the masked image is `image * (mask < 0.5)` — the repaint area set to 0 (mid grey in [-1, 1]),
/// - the mask is brought to latent size with `F.interpolate(mask, size:)` in its default nearest mode,
/// - the UNet input is `cat([latents, mask, masked_image_latents], dim: 1)` per step (after c_in scaling of
///   the latents only), with mask and masked-image latents repeated over the batch (CFG doubles it).
public enum LatentInpaintMask {
    /// 1 where `mask` ≥ 0.5, else 0 (same shape).
    public static func binarized(_ mask: Tensor) -> Tensor {
        Tensor(shape: mask.shape, values: mask.scalars.map { $0 >= 0.5 ? 1 : 0 })
    }

    /// `image * (mask < 0.5)`: image [N, C, H, W], mask [1 or N, 1, H, W].
    public static func maskedImage(_ image: Tensor, mask: Tensor) throws -> Tensor {
        guard image.shape.count == 4, mask.shape.count == 4, mask.shape[1] == 1,
              mask.shape[2] == image.shape[2], mask.shape[3] == image.shape[3],
              mask.shape[0] == 1 || mask.shape[0] == image.shape[0] else {
            throw InpaintError.shapeMismatch(what: "the inpaint mask", expected: [1, 1] + Array(image.shape.suffix(2)),
                                             actual: mask.shape)
        }
        let (n, c, plane) = (image.shape[0], image.shape[1], image.shape[2] * image.shape[3])
        let m = mask.scalars, x = image.scalars
        var out = [Float](repeating: 0, count: x.count)
        for b in 0 ..< n {
            let mb = mask.shape[0] == 1 ? 0 : b
            for ch in 0 ..< c {
                let base = (b * c + ch) * plane
                for i in 0 ..< plane where m[mb * plane + i] < 0.5 { out[base + i] = x[base + i] }
            }
        }
        return Tensor(shape: image.shape, values: out)
    }

    /// The latent-size mask [1, 1, H/f, W/f] from a pixel mask [1, 1, H, W] (already binarised by the caller
    /// when the model needs it).
    public static func latentMask(_ pixelMask: Tensor, downscale factor: Int = 8) -> Tensor {
        resizeNearest(pixelMask, height: pixelMask.shape[2] / factor, width: pixelMask.shape[3] / factor)
    }

    /// The 9-channel UNet input: `latents` [B, 4, h, w] (already scaled by c_in), mask [1|B, 1, h, w],
    /// masked-image latents [1|B, 4, h, w]; the single-image conditions are repeated over B.
    public static func unetInput(latents: Tensor, mask: Tensor, maskedImageLatents: Tensor) throws -> Tensor {
        let b = latents.shape[0]
        let spatial = Array(latents.shape.suffix(2))
        guard mask.shape.suffix(2).elementsEqual(spatial), maskedImageLatents.shape.suffix(2).elementsEqual(spatial),
              mask.shape[0] == 1 || mask.shape[0] == b, maskedImageLatents.shape[0] == 1 || maskedImageLatents.shape[0] == b else {
            throw InpaintError.shapeMismatch(what: "the inpaint conditioning", expected: [b, 1] + spatial, actual: mask.shape)
        }
        func repeated(_ t: Tensor) -> Tensor { t.shape[0] == b ? t : concat(Array(repeating: t, count: b), axis: 0) }
        return concat([latents, repeated(mask), repeated(maskedImageLatents)], axis: 1)
    }
}
