import Tensor

/// The latent-space `fill` modes, applied to the encoded (scaled) latents before noise is added, as A1111 does:
/// `latent_noise` puts fresh Gaussian noise where the latent mask repaints, `latent_nothing` puts zeros there.
public enum LatentFill {
    /// latents·(1 − m) + replacement·m, with m [1|B, 1, h, w] and replacement the same shape as latents
    /// (noise for `latent_noise`; zeros for `latent_nothing`).
    public static func apply(_ latents: Tensor, mask: Tensor, replacement: Tensor) throws -> Tensor {
        guard latents.shape == replacement.shape, latents.shape.count == 4, mask.shape.count == 4,
              mask.shape[1] == 1, mask.shape.suffix(2).elementsEqual(latents.shape.suffix(2)),
              mask.shape[0] == 1 || mask.shape[0] == latents.shape[0] else {
            throw InpaintError.shapeMismatch(what: "the latent fill mask", expected: [1, 1] + Array(latents.shape.suffix(2)),
                                             actual: mask.shape)
        }
        let (b, c, plane) = (latents.shape[0], latents.shape[1], latents.shape[2] * latents.shape[3])
        let m = mask.scalars, x = latents.scalars, r = replacement.scalars
        var out = [Float](repeating: 0, count: x.count)
        for n in 0 ..< b {
            let mb = mask.shape[0] == 1 ? 0 : n
            for ch in 0 ..< c {
                let base = (n * c + ch) * plane
                for i in 0 ..< plane {
                    let w = m[mb * plane + i]
                    out[base + i] = x[base + i] * (1 - w) + r[base + i] * w
                }
            }
        }
        return Tensor(shape: latents.shape, values: out)
    }
}
