import Models

/// A textual-inversion embedding a LoRA file bundles (`bundle_emb.NAME.*`), usable by NAME in the prompts while
/// that LoRA is applied. An embedding of the same name in the embeddings folder wins (A1111's rule), and of two
/// LoRAs bundling one name the first applied wins.
public struct BundledEmbedding: Sendable {
    /// The LoRA's name in `loras/`.
    public let lora: String
    public let embedding: TextualInversion

    public init(lora: String, embedding: TextualInversion) {
        self.lora = lora
        self.embedding = embedding
    }
}
