import Tensor

/// Progress of one finished step, for progress notifications and previews.
public struct StepProgress {
    /// 1-based index of the step just finished.
    public let step: Int
    public let steps: Int
    /// Sigma the step started from and the VE latent it produced.
    public let sigma: Double
    public let latent: Tensor
    /// The model's denoised estimate at this step (what previews show).
    public let denoised: Tensor
}

/// The per-run customisation points of the single sampling loop.
public struct SamplingHooks {
    /// Checked before every step; returning true stops the run with `SamplingError.cancelled`.
    public var isCancelled: () -> Bool
    /// Called after every step (may throw to abort).
    public var onStep: (StepProgress) throws -> Void
    /// Inpainting: after step i, receives the VE latent at `sigmas[i + 1]` and the step index,
    /// returns the latent to continue with (e.g. known region re-noised to that sigma).
    public var blend: ((Tensor, Int) throws -> Tensor)?

    public init(isCancelled: @escaping () -> Bool = { false },
                onStep: @escaping (StepProgress) throws -> Void = { _ in },
                blend: ((Tensor, Int) throws -> Tensor)? = nil) {
        self.isCancelled = isCancelled
        self.onStep = onStep
        self.blend = blend
    }
}
