import Sampling

/// The SDXL ensemble of experts for one run (diffusers' `denoising_end` on the base, `denoising_start` on the
/// refiner; A1111's "refiner switch at"): the base model runs the schedule while `t >= cutoff`, then `model`
/// continues the same schedule from the base's latents without adding noise and its VAE decodes.
public struct RefinerHandoff {
    public let model: LoadedModel
    /// The switch fraction in (0, 1) (`SamplingPlan.split(switchAt:)`).
    public let switchAt: Double
    public let aestheticScores: AestheticScores
    /// The refiner's conditioner; nil: the model's own (`LoadedModel.conditioner`).
    public let conditioner: (any Conditioner)?

    public init(model: LoadedModel, switchAt: Double, aestheticScores: AestheticScores = .defaults,
                conditioner: (any Conditioner)? = nil) {
        self.model = model
        self.switchAt = switchAt
        self.aestheticScores = aestheticScores
        self.conditioner = conditioner
    }
}
