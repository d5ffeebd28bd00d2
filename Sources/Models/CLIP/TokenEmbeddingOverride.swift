import Tensor

/// Vectors that take the place of token embeddings in one sequence (textual inversion): rows of `vectors`
/// [n, hidden] replace the token embeddings at positions `position ..< position + n`; the position embedding is
/// added to them as to any token (A1111's `EmbeddingsWithFixes`, diffusers' added tokens).
public struct TokenEmbeddingOverride: Sendable {
    public let position: Int
    public let vectors: Tensor

    public init(position: Int, vectors: Tensor) {
        self.position = position
        self.vectors = vectors
    }
}
