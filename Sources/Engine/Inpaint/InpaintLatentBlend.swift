import Tensor

/// The latent blend of inpainting with an ordinary 4-channel model, run by the shared sampler loop through its
/// `SamplingHooks.blend` hook after every step (never a loop of its own).
///
/// Hard blend (diffusers' `StableDiffusionInpaintPipeline` for 4-channel UNets): after step i the latent keeps
/// the model's values where the latent mask is 1 and takes the original latents re-noised to the next sigma
/// elsewhere, `x ← m·x + (1 − m)·(x0 + σ_{i+1}·ε)`, with ε the same noise the run started from. After the last
/// step the known part is the clean original, as diffusers' loop ends: x0 divided by the plan's `outputScale`,
/// because DDIM's result is the VP latent (the loop multiplies by `outputScale` afterwards) and diffusers blends
/// it with the clean latents. Latents are VE here (the loop's convention), so `x0 + σ·ε` is the scheduler's
/// `add_noise` for Euler-type schedulers and its VE equivalent for DDIM (both parts carry the same VP factor).
/// diffusers binarises the pixel mask and resizes it (nearest), so its latent mask is 0/1; a grey latent mask
/// is mixed linearly by the same formula.
///
/// Soft blend (`blend: "soft"`, differential diffusion): the latent mask is a grey level m in [0, 1] and is
/// never mixed; each pixel is held at the re-noised original until the schedule passes its level. After step
/// i of N a pixel follows the model when m > 1 − (i + 1)/N, so m = 1 is free from the first step, m = 0.5 from
/// the middle of the schedule, and m = 0 never (the final paste keeps it). Large feathers then fade in over
/// the run instead of being cross-faded once, which hides the seam.
public struct InpaintLatentBlend {
    public enum Mode: Equatable, Sendable { case hard, soft }

    /// [1 | B, 1, h, w], 1 = repaint.
    public let mask: Tensor
    /// The clean encoded original (scaled latents) [B, 4, h, w].
    public let original: Tensor
    /// The noise the run started from, same shape as `original`.
    public let noise: Tensor
    /// The plan's sigmas (N + 1 values, last 0).
    public let sigmas: [Double]
    public let mode: Mode
    /// `SamplingPlan.outputScale` (1 for VE schedulers).
    public let outputScale: Double

    public init(mask: Tensor, original: Tensor, noise: Tensor, sigmas: [Double], mode: Mode,
                outputScale: Double = 1) throws {
        guard original.shape == noise.shape, original.shape.count == 4 else {
            throw InpaintError.shapeMismatch(what: "the blend noise", expected: original.shape, actual: noise.shape)
        }
        guard mask.shape.count == 4, mask.shape[1] == 1, mask.shape.suffix(2).elementsEqual(original.shape.suffix(2)),
              mask.shape[0] == 1 || mask.shape[0] == original.shape[0] else {
            throw InpaintError.shapeMismatch(what: "the latent mask", expected: [1, 1] + Array(original.shape.suffix(2)),
                                             actual: mask.shape)
        }
        guard sigmas.count >= 2 else {
            throw InpaintError.shapeMismatch(what: "the sigma schedule", expected: [2], actual: [sigmas.count])
        }
        self.mask = mask
        self.original = original
        self.noise = noise
        self.sigmas = sigmas
        self.mode = mode
        self.outputScale = outputScale
    }

    /// Number of steps in the schedule.
    public var steps: Int { sigmas.count - 1 }

    /// The weight of the model's latent for a mask level after step `step` (0-based).
    public func weight(level m: Float, afterStep step: Int) -> Float {
        switch mode {
        case .hard: return m
        case .soft:
            let threshold = 1 - Float(step + 1) / Float(steps)
            return m > threshold ? 1 : 0
        }
    }

    /// The hook: `x` is the VE latent at `sigmas[step + 1]` just produced by step `step`.
    public func callAsFunction(_ x: Tensor, _ step: Int) throws -> Tensor {
        guard x.shape == original.shape else {
            throw InpaintError.shapeMismatch(what: "the sampled latent", expected: original.shape, actual: x.shape)
        }
        let last = step + 1 >= steps
        let sigma: Float = last ? 0 : Float(sigmas[step + 1])
        let scale: Float = last ? Float(1 / outputScale) : 1
        let (b, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        let m = mask.scalars, xs = x.scalars, x0 = original.scalars, e = noise.scalars
        let weights = m.map { weight(level: $0, afterStep: step) }
        var out = [Float](repeating: 0, count: xs.count)
        for n in 0 ..< b {
            let mb = mask.shape[0] == 1 ? 0 : n
            for ch in 0 ..< c {
                let base = (n * c + ch) * plane
                for i in 0 ..< plane {
                    let w = weights[mb * plane + i]
                    let known = last ? x0[base + i] * scale : x0[base + i] + sigma * e[base + i]
                    // (1 − w)·known + w·x, written as diffusers writes it.
                    out[base + i] = (1 - w) * known + w * xs[base + i]
                }
            }
        }
        return Tensor(shape: x.shape, values: out)
    }
}
