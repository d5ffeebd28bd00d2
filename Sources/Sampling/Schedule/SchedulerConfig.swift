/// A model's training noise schedule and how inference timesteps are picked: the one reading of a diffusers
/// `scheduler_config.json` (models load it, samplers run from it). Keys are diffusers' (snake_case); missing
/// keys take the values diffusers' single-file loader uses for Stable Diffusion checkpoints; unknown keys are
/// ignored. What the samplers cannot honour (`trained_betas`, `prediction_type` "sample", other beta schedules
/// or timestep spacings) is refused while decoding, so a model that loads can always be sampled exactly.
public struct SchedulerConfig: Codable, Equatable, Sendable {
    public enum BetaSchedule: String, Codable, Sendable {
        case linear
        case scaledLinear = "scaled_linear"
    }

    public enum PredictionType: String, Codable, Sendable {
        case epsilon
        case vPrediction = "v_prediction"
    }

    public enum TimestepSpacing: String, Codable, Sendable {
        case leading, trailing, linspace
    }

    public var numTrainTimesteps: Int
    public var betaStart: Double
    public var betaEnd: Double
    public var betaSchedule: BetaSchedule
    public var predictionType: PredictionType
    public var timestepSpacing: TimestepSpacing
    public var stepsOffset: Int
    /// DDIM/LCM: whether the step after the last timestep lands on alpha 1 (sigma 0) or on
    /// alphas_cumprod[0]. SD checkpoints ship `false`.
    public var setAlphaToOne: Bool
    /// LCM: the distillation schedule length and boundary-condition timestep scale.
    public var originalInferenceSteps: Int
    public var timestepScaling: Double
    /// Lin et al. 2023 zero terminal SNR (v-prediction models trained with it).
    public var rescaleBetasZeroSNR: Bool

    /// Stable Diffusion 1.x/2.x values (scaled_linear 0.00085...0.012, 1000 steps, leading + offset 1).
    public init(numTrainTimesteps: Int = 1000, betaStart: Double = 0.00085, betaEnd: Double = 0.012,
                betaSchedule: BetaSchedule = .scaledLinear, predictionType: PredictionType = .epsilon,
                timestepSpacing: TimestepSpacing = .leading, stepsOffset: Int = 1, setAlphaToOne: Bool = false,
                originalInferenceSteps: Int = 50, timestepScaling: Double = 10, rescaleBetasZeroSNR: Bool = false) {
        self.numTrainTimesteps = numTrainTimesteps
        self.betaStart = betaStart
        self.betaEnd = betaEnd
        self.betaSchedule = betaSchedule
        self.predictionType = predictionType
        self.timestepSpacing = timestepSpacing
        self.stepsOffset = stepsOffset
        self.setAlphaToOne = setAlphaToOne
        self.originalInferenceSteps = originalInferenceSteps
        self.timestepScaling = timestepScaling
        self.rescaleBetasZeroSNR = rescaleBetasZeroSNR
    }

    enum CodingKeys: String, CodingKey {
        case numTrainTimesteps = "num_train_timesteps", betaStart = "beta_start", betaEnd = "beta_end"
        case betaSchedule = "beta_schedule", predictionType = "prediction_type"
        case timestepSpacing = "timestep_spacing", stepsOffset = "steps_offset"
        case setAlphaToOne = "set_alpha_to_one", originalInferenceSteps = "original_inference_steps"
        case timestepScaling = "timestep_scaling", rescaleBetasZeroSNR = "rescale_betas_zero_snr"
    }

    /// Keys that are read only to be refused; not part of the config, so not in `CodingKeys`.
    private enum RefusedKeys: String, CodingKey {
        case trainedBetas = "trained_betas"
    }

    /// Beta bounds are decoded as Double straight from the JSON text, so "0.00085" becomes the same double
    /// as the Python float diffusers starts from (a float32 detour would move every sigma by an ulp).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SchedulerConfig()
        let refused = try decoder.container(keyedBy: RefusedKeys.self)
        if refused.contains(.trainedBetas), try !refused.decodeNil(forKey: .trainedBetas) {
            throw SamplingError.unsupportedSchedulerConfig("trained_betas are not supported")
        }
        numTrainTimesteps = try c.decodeIfPresent(Int.self, forKey: .numTrainTimesteps) ?? d.numTrainTimesteps
        betaStart = try c.decodeIfPresent(Double.self, forKey: .betaStart) ?? d.betaStart
        betaEnd = try c.decodeIfPresent(Double.self, forKey: .betaEnd) ?? d.betaEnd
        betaSchedule = try c.supported(.betaSchedule, default: d.betaSchedule)
        predictionType = try c.supported(.predictionType, default: d.predictionType)
        timestepSpacing = try c.supported(.timestepSpacing, default: d.timestepSpacing)
        stepsOffset = try c.decodeIfPresent(Int.self, forKey: .stepsOffset) ?? d.stepsOffset
        setAlphaToOne = try c.decodeIfPresent(Bool.self, forKey: .setAlphaToOne) ?? d.setAlphaToOne
        originalInferenceSteps = try c.decodeIfPresent(Int.self, forKey: .originalInferenceSteps) ?? d.originalInferenceSteps
        timestepScaling = try c.decodeIfPresent(Double.self, forKey: .timestepScaling) ?? d.timestepScaling
        rescaleBetasZeroSNR = try c.decodeIfPresent(Bool.self, forKey: .rescaleBetasZeroSNR) ?? d.rescaleBetasZeroSNR
    }
}

extension KeyedDecodingContainer {
    /// A string-valued choice: its default when absent or null, refused by name when we do not implement it.
    fileprivate func supported<T: RawRepresentable>(_ key: Key, default fallback: T) throws -> T where T.RawValue == String {
        guard let raw = try decodeIfPresent(String.self, forKey: key) else { return fallback }
        guard let value = T(rawValue: raw) else {
            throw SamplingError.unsupportedSchedulerConfig("\(key.stringValue) \"\(raw)\" is not supported")
        }
        return value
    }
}
