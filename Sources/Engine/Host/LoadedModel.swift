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

    /// Loads any layout `ModelFiles` understands and the matching tokenizer.
    public static func load(name: String, path: String, options: CheckpointOptions = CheckpointOptions()) throws -> LoadedModel {
        let networks = try ModelFiles.load(path: path, options: options)
        // Folders pad as their special_tokens_map.json says; single files with their family's special tokens.
        let tokenizer = try networks.tokenizer.load()
        return LoadedModel(name: name, path: path, networks: networks, tokenizer: tokenizer)
    }
}
