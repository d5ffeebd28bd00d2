import Tensor

/// A cheap latent -> RGB approximation for previews: a fixed linear map of the 4 latent channels
/// (the "approx cheap" coefficients A1111 uses for SD 1.x/2.x latents), no VAE call.
public enum LatentPreview {
    /// rows: latent channel; columns: R, G, B.
    static let factors: [[Float]] = [
        [0.298, 0.207, 0.208],
        [0.187, 0.286, 0.173],
        [-0.158, 0.189, 0.264],
        [-0.184, -0.271, -0.473],
    ]

    /// [N, 4, h, w] unscaled latents -> [N, 3, h, w] in [0, 1] (one pixel per latent cell).
    public static func rgb(_ latents: Tensor) -> Tensor {
        let n = latents.shape[0], c = latents.shape[1], h = latents.shape[2], w = latents.shape[3]
        let plane = h * w
        var out = Tensor(shape: [n, 3, h, w])
        latents.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for b in 0..<n {
                    for rgb in 0..<3 {
                        for p in 0..<plane {
                            var v: Float = 0
                            for ch in 0..<min(c, 4) { v += src[(b * c + ch) * plane + p] * factors[ch][rgb] }
                            dst[(b * 3 + rgb) * plane + p] = min(max((v + 1) / 2, 0), 1)
                        }
                    }
                }
            }
        }
        return out
    }
}
