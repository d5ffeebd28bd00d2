import Foundation
import Weights

/// How a model's prediction type is decided when the user does not choose it, in one place so loading
/// and `ModelProbe` cannot disagree: diffusers folders say it in their scheduler config; single files
/// by a sidecar LDM config (`<name>.yaml`), else by their family's rule.
enum PredictionRule {
    static func singleFile(path: String, family: any ModelFamily, checkpoint: any TensorSource) -> PredictionType {
        sidecar(path) ?? PredictionType(family.defaultParameterisation(globalStep: globalStep(checkpoint)))
    }

    /// The original LDM config users keep next to a checkpoint (`model.yaml` beside `model.safetensors`,
    /// as A1111 reads it): `parameterization: "v"` means v-prediction; a sidecar without the key means
    /// epsilon (LDM's default). Only that one key is read, by a line scan; nil when there is no sidecar.
    static func sidecar(_ path: String) -> PredictionType? {
        let sidecar = (path as NSString).deletingPathExtension + ".yaml"
        guard let data = FileManager.default.contents(atPath: sidecar),
              let text = String(data: data, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("parameterization:") else { continue }
            let value = trimmed.dropFirst("parameterization:".count)
                .split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
            let cleaned = value.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
            return cleaned == "v" ? .vPrediction : .epsilon
        }
        return .epsilon
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
