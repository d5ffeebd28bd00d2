import Models
import Tensor

/// Text conditioning as A1111 builds it: emphasis-weighted 75-token chunks, each encoded as a full
/// 77-token CLIP input, concatenated along the sequence axis ([1, 77 * chunks, D]).
///
/// Weighting (A1111's default "emphasis"): per chunk, hidden states are multiplied by their token's
/// weight and then rescaled so the chunk's mean equals the unweighted mean. A chunk whose weights are all 1
/// is left untouched, so a plain prompt of at most 75 tokens gives exactly diffusers' `prompt_embeds`.
public struct PromptEncoder {
    public let encoder: CLIPTextEncoder
    public let chunker: PromptChunker

    public init(model: LoadedModel) {
        encoder = model.networks.textEncoder
        chunker = PromptChunker(tokenizer: model.tokenizer)
    }

    /// Conditional and unconditional embeddings with the same chunk count (the shorter one is padded
    /// with chunks of the empty prompt, as A1111 does).
    public func encodePair(prompt: String, negative: String, clipSkip: Int) throws -> (cond: Tensor, uncond: Tensor) {
        var cond = chunker.chunks(prompt)
        var uncond = chunker.chunks(negative)
        let count = max(cond.count, uncond.count)
        let empty = chunker.emptyChunk
        while cond.count < count { cond.append(empty) }
        while uncond.count < count { uncond.append(empty) }
        return (try encode(cond, clipSkip: clipSkip), try encode(uncond, clipSkip: clipSkip))
    }

    public func encode(_ prompt: String, clipSkip: Int) throws -> Tensor {
        try encode(chunker.chunks(prompt), clipSkip: clipSkip)
    }

    /// The UNet context for a batch of `batch` images, laid out as diffusers batches classifier-free guidance:
    /// [uncond × batch, cond × batch] when the unconditional pass runs, else [cond × batch].
    public func batchedContext(prompt: String, negative: String, clipSkip: Int, batch: Int,
                               withUnconditional: Bool) throws -> Tensor {
        if withUnconditional {
            let pair = try encodePair(prompt: prompt, negative: negative, clipSkip: clipSkip)
            return concat(Array(repeating: pair.uncond, count: batch) + Array(repeating: pair.cond, count: batch), axis: 0)
        }
        let cond = try encode(prompt, clipSkip: clipSkip)
        return batch == 1 ? cond : concat(Array(repeating: cond, count: batch), axis: 0)
    }

    func encode(_ chunks: [PromptChunk], clipSkip: Int) throws -> Tensor {
        var parts: [Tensor] = []
        for chunk in chunks {
            let hidden = try encoder.encode(ids: [chunk.ids], clipSkip: clipSkip)
            parts.append(Self.applyWeights(hidden, chunk.weights))
        }
        return parts.count == 1 ? parts[0] : concat(parts, axis: 1)
    }

    /// z * w, then z * (mean(z) / mean(z * w)); means in float32 order-independent enough for 1e-4 parity
    /// (accumulated in Double).
    static func applyWeights(_ hidden: Tensor, _ weights: [Double]) -> Tensor {
        guard weights.contains(where: { $0 != 1 }) else { return hidden }
        let length = hidden.shape[1]
        let width = hidden.shape[2]
        var out = hidden
        let originalMean = hidden.withUnsafeBufferPointer { p in p.reduce(0.0) { $0 + Double($1) } } / Double(hidden.count)
        out.withUnsafeMutableBufferPointer { p in
            for t in 0..<length {
                let w = Float(weights[t])
                for i in (t * width)..<((t + 1) * width) { p[i] *= w }
            }
        }
        let newMean = out.withUnsafeBufferPointer { p in p.reduce(0.0) { $0 + Double($1) } } / Double(out.count)
        guard newMean != 0 else { return out }
        let scale = Float(originalMean) / Float(newMean)
        out.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] *= scale }
        }
        return out
    }
}
