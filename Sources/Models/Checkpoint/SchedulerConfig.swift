/// What a model's training noise schedule was: diffusers' `scheduler/scheduler_config.json`, reduced to
/// the fields samplers need. Missing keys take the values diffusers' single-file loader uses for SD
/// (`SCHEDULER_DEFAULT_CONFIG` with SD's real betas); unknown keys are ignored.
public struct SchedulerConfig: Codable, Equatable, Sendable {
    public var className: String? = nil
    public var numTrainTimesteps = 1000
    public var betaStart: Float = 0.00085
    public var betaEnd: Float = 0.012
    /// "scaled_linear" (SD), "linear", "squaredcos_cap_v2".
    public var betaSchedule = "scaled_linear"
    public var trainedBetas: [Float]? = nil
    public var predictionType = PredictionType.epsilon
    public var stepsOffset = 1
    public var setAlphaToOne = false
    public var timestepSpacing = "leading"
    public var rescaleBetasZeroSnr = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case className = "_class_name", numTrainTimesteps = "num_train_timesteps"
        case betaStart = "beta_start", betaEnd = "beta_end", betaSchedule = "beta_schedule"
        case trainedBetas = "trained_betas", predictionType = "prediction_type", stepsOffset = "steps_offset"
        case setAlphaToOne = "set_alpha_to_one", timestepSpacing = "timestep_spacing"
        case rescaleBetasZeroSnr = "rescale_betas_zero_snr"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SchedulerConfig()
        className = try c.decodeIfPresent(String.self, forKey: .className)
        numTrainTimesteps = try c.value(.numTrainTimesteps, default: d.numTrainTimesteps)
        betaStart = try c.value(.betaStart, default: d.betaStart)
        betaEnd = try c.value(.betaEnd, default: d.betaEnd)
        betaSchedule = try c.value(.betaSchedule, default: d.betaSchedule)
        trainedBetas = try c.decodeIfPresent([Float].self, forKey: .trainedBetas)
        predictionType = try c.value(.predictionType, default: d.predictionType)
        stepsOffset = try c.value(.stepsOffset, default: d.stepsOffset)
        setAlphaToOne = try c.value(.setAlphaToOne, default: d.setAlphaToOne)
        timestepSpacing = try c.value(.timestepSpacing, default: d.timestepSpacing)
        rescaleBetasZeroSnr = try c.value(.rescaleBetasZeroSnr, default: d.rescaleBetasZeroSnr)
    }
}

/// What the UNet predicts.
public enum PredictionType: String, Codable, Sendable {
    case epsilon
    case vPrediction = "v_prediction"
    case sample
}
