/// What applying one adapter did, for the result's `loras` member.
public struct LoRAReport: Equatable, Sendable {
    public static let unmatchedListLimit = 20

    public let name: String
    public let weight: Double
    public let textEncoderWeight: Double
    public let unetWeight: Double
    /// The DyLoRA rank limit (`dyn=`) it was applied with; nil for all ranks.
    public let dyn: Int?
    /// The family its shapes say (`sd1`, `sd2`, `sdxl`), nil when they do not tell.
    public let family: String?
    public let type: String
    public let matched: Int
    public let total: Int
    /// The first `unmatchedListLimit` unmatched keys; `unmatchedCount` counts them all.
    public let unmatched: [String]
    public let unmatchedCount: Int
    /// The embeddings the file bundles (`bundle_emb.*`), in name order.
    public let bundledEmbeddings: [LoRABundledEmbeddingReport]

    public init(request: LoRARequest, family: String?, type: String, matched: Int, total: Int, unmatched: [String],
                bundledEmbeddings: [LoRABundledEmbeddingReport] = []) {
        self.bundledEmbeddings = bundledEmbeddings
        name = request.name
        weight = request.weight
        textEncoderWeight = request.effectiveTextEncoderWeight
        unetWeight = request.effectiveUNetWeight
        dyn = request.dyn
        self.family = family
        self.type = type
        self.matched = matched
        self.total = total
        self.unmatched = Array(unmatched.prefix(Self.unmatchedListLimit))
        self.unmatchedCount = unmatched.count
    }

    /// A partly matched adapter is applied, with this said.
    public var warning: String? {
        guard unmatchedCount > 0 else { return nil }
        return "\(unmatchedCount) of \(total) modules (plus any unrecognised keys) of LoRA \"\(name)\" matched no layer of the model and were skipped"
    }
}
