import Foundation
import Models

/// A resident model: its networks plus the tokenizer that goes with them. Immutable and shared by requests.
public final class LoadedModel: Sendable {
    public let name: String
    public let path: String
    public let networks: StableDiffusionModels
    public let tokenizer: CLIPTokenizer

    public init(name: String, path: String, networks: StableDiffusionModels, tokenizer: CLIPTokenizer) {
        self.name = name
        self.path = path
        self.networks = networks
        self.tokenizer = tokenizer
    }

    /// Float32 bytes of the weights (what the memory budget counts).
    public var bytes: Int { networks.parameterBytes }

    /// Single-file SD2 checkpoints carry OpenCLIP, whose tokenizer pads with "!" (id 0) rather than EOS.
    static func isSD2(_ layout: CheckpointLayout) -> Bool {
        if case let .singleFile(_, family) = layout { return family.lowercased().contains("2") }
        return false
    }

    /// Loads any layout `ModelFiles` understands and the matching tokenizer.
    public static func load(name: String, path: String, options: CheckpointOptions = CheckpointOptions()) throws -> LoadedModel {
        let networks = try ModelFiles.load(path: path, options: options)
        let tokenizer: CLIPTokenizer
        switch networks.tokenizer {
        case let .folder(vocab, _):
            // The folder's special_tokens_map.json says how to pad (SD2 folders pad with "!", SD1 with EOS).
            tokenizer = try CLIPTokenizer(folder: URL(fileURLWithPath: vocab).deletingLastPathComponent())
        case .standard:
            tokenizer = try CLIPTokenizer.standard(specialTokens: Self.isSD2(networks.layout) ? .sd2 : .clip)
        }
        return LoadedModel(name: name, path: path, networks: networks, tokenizer: tokenizer)
    }
}
