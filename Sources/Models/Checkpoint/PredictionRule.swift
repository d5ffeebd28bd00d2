import Foundation
import Weights

/// How a model's prediction type is decided when the user does not choose it, in one place so loading
/// and `ModelProbe` cannot disagree: diffusers folders say it in their scheduler config; single files
/// by a sidecar LDM config (`<name>.yaml`, `InferenceConfigSidecar`), else by their family's rule.
enum PredictionRule {
    static func singleFile(sidecar: InferenceConfigSidecar?, family: any ModelFamily, checkpoint: any TensorSource,
                           unetInChannels: Int) -> PredictionType {
        sidecar?.predictionType ?? PredictionType(family.defaultParameterisation(globalStep: globalStep(checkpoint),
                                                                                 unetInChannels: unetInChannels))
    }

    /// A .ckpt's top-level `global_step` (safetensors files record none).
    static func globalStep(_ checkpoint: any TensorSource) -> Double? {
        (checkpoint as? TorchCheckpoint)?.scalars["global_step"]
    }
}

extension PredictionType {
    public init(_ parameterisation: Parameterisation) {
        switch parameterisation {
        case .epsilon: self = .epsilon
        case .v: self = .vPrediction
        }
    }
}
