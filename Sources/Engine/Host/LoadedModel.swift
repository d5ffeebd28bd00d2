import Foundation
import Models

/// A resident model: its networks, the tokenizer of each text encoder and the conditioner of its family.
/// Immutable and shared by requests.
public final class LoadedModel: Sendable {
    public let name: String
    public let path: String
    public let networks: StableDiffusionModels
    /// One per text encoder, in `networks.textEncoders` order.
    public let tokenizers: [CLIPTokenizer]
    /// Turns prompts into what this model's UNet is conditioned on (`Conditioners.make`).
    public let conditioner: any Conditioner
    /// The patched variant for the last adapter set (`applying(_:directory:)`); the base networks never change.
    public let loraCache: LoRAPatchCache
    /// Embeddings the applied LoRAs bundle (a patched variant's; none for a base model), usable by name.
    public let bundledEmbeddings: [BundledEmbedding]
    /// The LoRAs a patched variant was built with, in order (none for a base model).
    public let appliedLoRAs: [AppliedLoRA]

    public init(name: String, path: String, networks: StableDiffusionModels, tokenizers: [CLIPTokenizer],
                loraCache: LoRAPatchCache = LoRAPatchCache(), bundledEmbeddings: [BundledEmbedding] = [],
                appliedLoRAs: [AppliedLoRA] = []) throws {
        self.name = name
        self.bundledEmbeddings = bundledEmbeddings
        self.appliedLoRAs = appliedLoRAs
        self.loraCache = loraCache
        self.path = path
        self.networks = networks
        self.tokenizers = tokenizers
        self.conditioner = try Conditioners.make(for: networks, tokenizers: tokenizers)
    }

    /// The first text encoder's tokenizer (SD 1.x/2.x's only one).
    public var tokenizer: CLIPTokenizer { tokenizers[0] }

    /// Float32 bytes of the weights (what the memory budget counts).
    public var bytes: Int { networks.parameterBytes }
    /// Bytes of the bf16 weight copies made so far (part of `bytes`).
    public var bf16PackBytes: Int { networks.bf16PackBytes }

    /// Loads any layout `ModelFiles` understands and the matching tokenizers.
    public static func load(name: String, path: String, options: CheckpointOptions = CheckpointOptions()) throws -> LoadedModel {
        let networks = try ModelFiles.load(path: path, options: options)
        // Folders pad as their special_tokens_map.json says; single files with their family's special tokens.
        let tokenizers = try networks.textEncoders.map { try $0.tokenizer.load() }
        return try LoadedModel(name: name, path: path, networks: networks, tokenizers: tokenizers)
    }
}
