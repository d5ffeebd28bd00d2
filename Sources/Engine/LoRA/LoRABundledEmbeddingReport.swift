/// How one bundled embedding loaded, for its LoRA's report: its name and vector count, or why it cannot be used
/// (the LoRA still applies).
public struct LoRABundledEmbeddingReport: Equatable, Sendable {
    public let name: String
    public let vectors: Int?
    public let family: String?
    public let error: String?

    public init(name: String, vectors: Int?, family: String?, error: String?) {
        self.name = name
        self.vectors = vectors
        self.family = family
        self.error = error
    }
}
