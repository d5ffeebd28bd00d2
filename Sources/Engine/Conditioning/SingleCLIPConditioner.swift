import Models
import Tensor

/// SD 1.x/2.x conditioning: one CLIP text encoder, A1111 chunking and emphasis, the final-LayerNormed
/// states of the clip-skip layer as context, no pooled output.
public struct SingleCLIPConditioner: Conditioner {
    public let encoder: PromptEncoder

    public init(encoder: PromptEncoder) {
        self.encoder = encoder
    }

    public var clipSkipRange: ClosedRange<Int> { 1...encoder.encoder.layersToRun }

    public func conditioning(for request: ConditioningRequest) throws -> Conditioning {
        let n = request.batch
        if request.withUnconditional {
            let pair = try encoder.encodePair(prompt: request.prompt, negative: request.negativePrompt,
                                              clipSkip: request.clipSkip, embeddings: request.embeddings)
            return Conditioning(context: concat(Array(repeating: pair.uncond, count: n) + Array(repeating: pair.cond, count: n),
                                                axis: 0))
        }
        let cond = try encoder.encode(request.prompt, clipSkip: request.clipSkip, embeddings: request.embeddings)
        return Conditioning(context: n == 1 ? cond : concat(Array(repeating: cond, count: n), axis: 0))
    }

    public func embeddingUses(for request: ConditioningRequest) throws -> [EmbeddingUse] {
        try encoder.embeddingUses(request.prompt, field: "prompt", embeddings: request.embeddings)
            + (request.withUnconditional
                ? try encoder.embeddingUses(request.negativePrompt, field: "negative_prompt", embeddings: request.embeddings) : [])
    }
}
