/// Turns prompts into the conditioning a model's UNet takes. SD 1.x/2.x have one CLIP text encoder
/// (`SingleCLIPConditioner`); SDXL will concatenate two encoders' states and add pooled embeddings and
/// time ids, each encoder chunking and weighting its prompt on its own (`PromptEncoder`).
public protocol Conditioner: Sendable {
    /// The clip skips this conditioner accepts (validated before a run starts).
    var clipSkipRange: ClosedRange<Int> { get }

    /// The batched conditioning: [uncond × batch, cond × batch] when `withUnconditional`, else [cond × batch]
    /// (diffusers' classifier-free-guidance layout).
    func conditioning(for request: ConditioningRequest) throws -> Conditioning

    /// How the request's prompts use `request.embeddings` in every encoder, one entry per embedding and request
    /// member; throws the -32602 of an embedding this model's encoders cannot take (checked before a run).
    func embeddingUses(for request: ConditioningRequest) throws -> [EmbeddingUse]
}
