import Sampling

/// One model's share of a run: the model whose conditioner and UNet denoise `plan`'s steps. A plain run is one
/// stage over the whole plan; the SDXL refiner hand-off is two (the base up to the switch, the refiner after
/// it), and the core runs any list of them one after the other from the same latents, so txt2img, img2img and
/// inpaint get the hand-off without a special case.
public struct GenerationStage {
    public let model: LoadedModel
    public let conditioner: any Conditioner
    /// The stage's part of the schedule (`SamplingPlan.split`), in its model's own noise schedule.
    public let plan: SamplingPlan
    /// The refiner's aesthetic scores (SDXL refiner time ids), nil for stages that take none. The core hands
    /// them to the conditioner in `GenerationCore.conditioningRequest(for:stage:layout:)`.
    public let aestheticScores: AestheticScores?

    public init(model: LoadedModel, conditioner: (any Conditioner)? = nil, plan: SamplingPlan,
                aestheticScores: AestheticScores? = nil) {
        self.model = model
        self.conditioner = conditioner ?? model.conditioner
        self.plan = plan
        self.aestheticScores = aestheticScores
    }
}

/// The SDXL refiner's aesthetic micro-conditioning (diffusers' `aesthetic_score` / `negative_aesthetic_score`):
/// the last time id of its conditional and unconditional rows.
public struct AestheticScores: Sendable, Equatable {
    public var positive: Double
    public var negative: Double

    /// diffusers' defaults.
    public static let defaults = AestheticScores(positive: GenerationDefaults.aestheticScore,
                                                 negative: GenerationDefaults.negativeAestheticScore)

    public init(positive: Double, negative: Double) {
        self.positive = positive
        self.negative = negative
    }
}
