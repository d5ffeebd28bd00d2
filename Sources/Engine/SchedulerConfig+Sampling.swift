import Foundation
import Models
import Sampling

extension Models.SchedulerConfig {
    /// The model's training schedule in the Sampling module's terms.
    ///
    /// Beta bounds go through their shortest decimal text ("0.00085") so they become the same doubles as
    /// the Python floats diffusers starts from; a plain Float -> Double conversion would add float32
    /// rounding error that moves every sigma by an ulp.
    func samplingConfig(modelName: String) throws -> Sampling.SchedulerConfig {
        let beta: Sampling.SchedulerConfig.BetaSchedule
        switch betaSchedule {
        case "scaled_linear": beta = .scaledLinear
        case "linear": beta = .linear
        default: throw EngineError.unsupportedModel(name: modelName, reason: "beta_schedule \"\(betaSchedule)\" is not supported")
        }
        guard trainedBetas == nil else {
            throw EngineError.unsupportedModel(name: modelName, reason: "trained_betas are not supported")
        }
        let prediction: Sampling.SchedulerConfig.PredictionType
        switch predictionType {
        case .epsilon: prediction = .epsilon
        case .vPrediction: prediction = .vPrediction
        case .sample: throw EngineError.unsupportedModel(name: modelName, reason: "prediction_type \"sample\" is not supported")
        }
        guard let spacing = Sampling.SchedulerConfig.TimestepSpacing(rawValue: timestepSpacing) else {
            throw EngineError.unsupportedModel(name: modelName, reason: "timestep_spacing \"\(timestepSpacing)\" is not supported")
        }
        return Sampling.SchedulerConfig(
            numTrainTimesteps: numTrainTimesteps,
            betaStart: Double(String(describing: betaStart)) ?? Double(betaStart),
            betaEnd: Double(String(describing: betaEnd)) ?? Double(betaEnd),
            betaSchedule: beta, predictionType: prediction, timestepSpacing: spacing, stepsOffset: stepsOffset,
            setAlphaToOne: setAlphaToOne, rescaleBetasZeroSNR: rescaleBetasZeroSnr)
    }
}
