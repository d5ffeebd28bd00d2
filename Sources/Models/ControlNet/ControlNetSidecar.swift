import Foundation

/// The original cldm config lllyasviel ships next to each ControlNet (`control_v11e_sd15_shuffle.yaml` beside the
/// `.pth`): the one setting the tensors cannot show is `global_average_pooling` (shuffle-type models). Read by a
/// line scan of that key only, as `PredictionRule` reads checkpoints' sidecars; nil without a sidecar or the key.
enum ControlNetSidecar {
    static func globalAveragePooling(besides path: String) -> Bool? {
        let sidecar = (path as NSString).deletingPathExtension + ".yaml"
        guard let data = FileManager.default.contents(atPath: sidecar),
              let text = String(data: data, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("global_average_pooling:") else { continue }
            let value = trimmed.dropFirst("global_average_pooling:".count)
                .split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
            return value.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'")).lowercased() == "true"
        }
        return nil
    }
}
