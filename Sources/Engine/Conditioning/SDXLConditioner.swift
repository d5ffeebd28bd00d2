import Imaging
import Models
import Tensor

/// SDXL conditioning (A1111's and diffusers' `encode_prompt` + `_get_add_time_ids`):
/// - each encoder chunks and weights its own prompt with its own tokenizer (`PromptEncoder`), on the raw
///   states below the clip-skip layer (clip skip 1 = `hidden_states[-2]`, no final LayerNorm; k = diffusers'
///   `clip_skip = k - 1`), for the prompt AND the negative prompt (A1111; diffusers skips for the prompt only);
/// - every side is padded with empty-prompt chunks to the largest chunk count of any encoder and prompt
///   (A1111), and the encoders' states are concatenated along channels per chunk: context [1, 77·chunks, D1+D2];
/// - pooled = the second encoder's projected pooled output (`text_embeds`) of the first chunk;
/// - `prompt2`/`negativePrompt2` go to the second encoder, nil = the first encoder's text;
/// - the refiner has only the second encoder, and it gets `prompt`/`negativePrompt` (diffusers zips the
///   prompts with the encoders it has, so `prompt_2` never reaches the refiner's encoder);
/// - with `forceZerosForEmptyPrompt` (model_index' `force_zeros_for_empty_prompt`: base, inpaint) an empty
///   negative prompt — "" and left out alike, as in A1111, and `negativePrompt2` empty or left out too — gives
///   zero context and zero pooled for the unconditional pass (diffusers' `negative_prompt=None`). Without the
///   flag (refiner) "" is encoded like any prompt (diffusers' explicit `negative_prompt=""`).
/// Time ids: see `SDXLTimeIDs`; all rows are batched in the CFG layout, as context and pooled.
public struct SDXLConditioner: Conditioner {
    /// CLIP-L-like first encoder; nil for the refiner.
    public let first: PromptEncoder?
    /// The bigG-like second encoder (with `text_projection`): context channels after the first's, and pooled.
    public let second: PromptEncoder
    public let forceZerosForEmptyPrompt: Bool
    public let timeIDLayout: SDXLTimeIDLayout

    /// `commaBacktrack` is A1111's `comma_padding_backtrack` (20; 0 = plain 75-token windows).
    public init(textEncoder: CLIPTextEncoder?, tokenizer: CLIPTokenizer?,
                textEncoder2: CLIPTextEncoder, tokenizer2: CLIPTokenizer,
                forceZerosForEmptyPrompt: Bool, timeIDLayout: SDXLTimeIDLayout, commaBacktrack: Int = 20) throws {
        switch (textEncoder, tokenizer) {
        case let (encoder?, tokenizer?):
            first = PromptEncoder(encoder: encoder, tokenizer: tokenizer, states: .rawBelowClipSkip,
                                  commaBacktrack: commaBacktrack, embeddingSlot: .clipL)
        case (nil, nil):
            first = nil
        default:
            throw EngineError.invalidParameter(field: "text_encoder",
                reason: "the first text encoder and its tokenizer must be given together")
        }
        second = PromptEncoder(encoder: textEncoder2, tokenizer: tokenizer2, states: .rawBelowClipSkip,
                               commaBacktrack: commaBacktrack, embeddingSlot: .clipG)
        self.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt
        self.timeIDLayout = timeIDLayout
    }

    /// The raw layer below the clip-skip layer must exist in every encoder.
    public var clipSkipRange: ClosedRange<Int> {
        1...([first, second].compactMap { $0?.encoder.layersToRun }.min() ?? 1)
    }

    public func conditioning(for request: ConditioningRequest) throws -> Conditioning {
        let n = request.batch
        let sides = encoderPrompts(request)
        let zeroNegative = forceZerosForEmptyPrompt && sides.allSatisfy { $0.negative.isEmpty }
        let encodeNegative = request.withUnconditional && !zeroNegative

        let embeddings = request.embeddings
        var cond = sides.map { $0.encoder.chunks($0.prompt, embeddings: embeddings) }
        var uncond = encodeNegative ? sides.map { $0.encoder.chunks($0.negative, embeddings: embeddings) } : []
        let count = (cond + uncond).map(\.count).max() ?? 1
        for i in cond.indices { cond[i] = padded(cond[i], to: count, with: sides[i].encoder) }
        for i in uncond.indices { uncond[i] = padded(uncond[i], to: count, with: sides[i].encoder) }

        let positive = try encode(cond, sides: sides, clipSkip: request.clipSkip, embeddings: embeddings)
        let ids = SDXLTimeIDs(layout: timeIDLayout, micro: request.micro, output: request.outputSize,
                              imageToImage: request.imageToImage)
        let positiveIDs = Tensor(shape: [1, ids.positive.count], values: ids.positive)
        guard request.withUnconditional else {
            return Conditioning(context: Self.repeated(positive.context, n), pooled: Self.repeated(positive.pooled, n),
                                timeIDs: Self.repeated(positiveIDs, n))
        }
        let negative = encodeNegative
            ? try encode(uncond, sides: sides, clipSkip: request.clipSkip, embeddings: embeddings)
            : (context: Tensor.zeros(positive.context.shape), pooled: Tensor.zeros(positive.pooled.shape))
        let negativeIDs = Tensor(shape: [1, ids.negative.count], values: ids.negative)
        func layout(_ u: Tensor, _ c: Tensor) -> Tensor {
            concat(Array(repeating: u, count: n) + Array(repeating: c, count: n), axis: 0)
        }
        return Conditioning(context: layout(negative.context, positive.context),
                            pooled: layout(negative.pooled, positive.pooled),
                            timeIDs: layout(negativeIDs, positiveIDs))
    }

    /// Each encoder's embedding uses, reported once per embedding and request member (both encoders read
    /// `prompt` when `prompt_2` is not sent); every encoder checks the widths it needs.
    public func embeddingUses(for request: ConditioningRequest) throws -> [EmbeddingUse] {
        let zeroNegative = forceZerosForEmptyPrompt && encoderPrompts(request).allSatisfy { $0.negative.isEmpty }
        var uses: [EmbeddingUse] = []
        for side in encoderPrompts(request) {
            var texts = [(side.promptField, side.prompt)]
            if request.withUnconditional, !zeroNegative { texts.append((side.negativeField, side.negative)) }
            for (field, text) in texts {
                for use in try side.encoder.embeddingUses(text, field: field, embeddings: request.embeddings)
                    where !uses.contains(where: { $0.name == use.name && $0.field == use.field }) {
                    uses.append(use)
                }
            }
        }
        return uses
    }

    private struct Side {
        let encoder: PromptEncoder
        let prompt: String
        let negative: String
        /// Only the second encoder's pooled output is used.
        var pools = true
        /// The request members the texts came from (the embedding report).
        var promptField = "prompt"
        var negativeField = "negative_prompt"
    }

    /// Which text each encoder gets, in context-channel order.
    private func encoderPrompts(_ r: ConditioningRequest) -> [Side] {
        guard let first else { return [Side(encoder: second, prompt: r.prompt, negative: r.negativePrompt)] }
        return [Side(encoder: first, prompt: r.prompt, negative: r.negativePrompt, pools: false),
                Side(encoder: second, prompt: r.prompt2 ?? r.prompt, negative: r.negativePrompt2 ?? r.negativePrompt,
                     promptField: r.prompt2 == nil ? "prompt" : "prompt_2",
                     negativeField: r.negativePrompt2 == nil ? "negative_prompt" : "negative_prompt_2")]
    }

    private func padded(_ chunks: [PromptChunk], to count: Int, with encoder: PromptEncoder) -> [PromptChunk] {
        chunks + Array(repeating: encoder.chunker.emptyChunk, count: count - chunks.count)
    }

    /// One side (prompt or negative) through every encoder: states joined along channels, the last
    /// (second) encoder's first-chunk pooled output.
    private func encode(_ chunks: [[PromptChunk]], sides: [Side], clipSkip: Int,
                        embeddings: PromptEmbeddings) throws -> (context: Tensor, pooled: Tensor) {
        var states: [Tensor] = []
        var pooled: Tensor?
        for (side, sideChunks) in zip(sides, chunks) {
            let encoding = try side.encoder.encode(sideChunks, clipSkip: clipSkip, pooled: side.pools, embeddings: embeddings)
            states.append(encoding.states)
            if side.pools { pooled = encoding.pooled }
        }
        guard let pooled else {
            throw EngineError.invalidParameter(field: "text_encoder_2", reason: "gave no pooled output")
        }
        return (states.count == 1 ? states[0] : concat(states, axis: 2), pooled)
    }

    private static func repeated(_ x: Tensor, _ n: Int) -> Tensor {
        n == 1 ? x : concat(Array(repeating: x, count: n), axis: 0)
    }
}
