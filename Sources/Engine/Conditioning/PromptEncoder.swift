import Models
import Tensor

/// One text encoder's side of the conditioning, as A1111 builds it: emphasis-weighted 75-token chunks, each
/// encoded as a full 77-token CLIP input, concatenated along the sequence axis ([1, 77 * chunks, D]). A model
/// with several encoders (SDXL) runs one of these per encoder, each with its own tokenizer, and its
/// conditioner concatenates the results along D.
///
/// Weighting (A1111's default "emphasis"): per chunk, hidden states are multiplied by their token's
/// weight and then rescaled so the chunk's mean equals the unweighted mean. A chunk whose weights are all 1
/// is left untouched, so a plain prompt of at most 75 tokens gives exactly diffusers' `prompt_embeds`.
public struct PromptEncoder: Sendable {
    public let encoder: CLIPTextEncoder
    public let chunker: PromptChunker
    public let states: PromptStates
    /// Which vectors of a textual-inversion embedding this encoder takes (SDXL: clip_l / clip_g).
    public let embeddingSlot: TextualInversionSlot

    /// `commaBacktrack`: A1111's `comma_padding_backtrack` (see `PromptChunker`).
    public init(encoder: CLIPTextEncoder, tokenizer: CLIPTokenizer, states: PromptStates = .finalNormed,
                commaBacktrack: Int = 20, embeddingSlot: TextualInversionSlot = .single) {
        self.encoder = encoder
        chunker = PromptChunker(tokenizer: tokenizer, commaBacktrack: commaBacktrack)
        self.states = states
        self.embeddingSlot = embeddingSlot
    }

    /// The single text encoder of an SD 1.x/2.x model.
    public init(model: LoadedModel) {
        self.init(encoder: model.networks.textEncoder, tokenizer: model.tokenizer)
    }

    /// Conditional and unconditional embeddings with the same chunk count (the shorter one is padded
    /// with chunks of the empty prompt, as A1111 does).
    public func encodePair(prompt: String, negative: String, clipSkip: Int,
                           embeddings: PromptEmbeddings = .none) throws -> (cond: Tensor, uncond: Tensor) {
        let pair = try encodingPair(prompt: prompt, negative: negative, clipSkip: clipSkip, pooled: false, embeddings: embeddings)
        return (pair.cond.states, pair.uncond.states)
    }

    public func encode(_ prompt: String, clipSkip: Int, embeddings: PromptEmbeddings = .none) throws -> Tensor {
        try encoding(prompt, clipSkip: clipSkip, pooled: false, embeddings: embeddings).states
    }

    /// `encodePair` with the pooled outputs when `pooled`.
    public func encodingPair(prompt: String, negative: String, clipSkip: Int, pooled: Bool,
                             embeddings: PromptEmbeddings = .none) throws -> (cond: PromptEncoding, uncond: PromptEncoding) {
        var cond = chunks(prompt, embeddings: embeddings)
        var uncond = chunks(negative, embeddings: embeddings)
        let count = max(cond.count, uncond.count)
        let empty = chunker.emptyChunk
        while cond.count < count { cond.append(empty) }
        while uncond.count < count { uncond.append(empty) }
        return (try encode(cond, clipSkip: clipSkip, pooled: pooled, embeddings: embeddings),
                try encode(uncond, clipSkip: clipSkip, pooled: pooled, embeddings: embeddings))
    }

    public func encoding(_ prompt: String, clipSkip: Int, pooled: Bool, embeddings: PromptEmbeddings = .none) throws -> PromptEncoding {
        try encode(chunks(prompt, embeddings: embeddings), clipSkip: clipSkip, pooled: pooled, embeddings: embeddings)
    }

    /// A1111 chunks with `embeddings` placed.
    public func chunks(_ prompt: String, embeddings: PromptEmbeddings) -> [PromptChunk] {
        chunker.chunks(prompt, embeddings: embeddings.vocabulary(chunker.tokenizer))
    }

    /// How `text` (request member `field`) uses `embeddings` in this encoder, checking each used embedding has
    /// vectors of this encoder's width (a -32602 naming the embedding and the width otherwise).
    public func embeddingUses(_ text: String, field: String, embeddings: PromptEmbeddings) throws -> [EmbeddingUse] {
        guard !embeddings.isEmpty else { return [] }
        var seen: [String: (occurrences: Int, tokens: Int)] = [:]
        var order: [String] = []
        for chunk in chunks(text, embeddings: embeddings) {
            for p in chunk.embeddings {
                _ = try vectors(p.name, embeddings: embeddings, field: field)
                if seen[p.name] == nil { order.append(p.name) }
                seen[p.name, default: (0, 0)].occurrences += 1
                seen[p.name, default: (0, 0)].tokens += p.count
            }
        }
        return order.compactMap { name in
            guard let s = seen[name], let e = embeddings.byName[name] else { return nil }
            return EmbeddingUse(name: name, field: field, vectors: e.vectorCount, occurrences: s.occurrences, tokens: s.tokens)
        }
    }

    private func vectors(_ name: String, embeddings: PromptEmbeddings, field: String) throws -> Tensor {
        guard let embedding = embeddings.byName[name] else {
            throw EngineError.invalidParameter(field: field, reason: "embedding '\(name)' was not resolved")
        }
        do {
            return try embedding.vectors(for: embeddingSlot, width: encoder.config.hiddenSize)
        } catch let e as TextualInversionError {
            throw EngineError.invalidParameter(field: field, reason: e.description)
        }
    }

    func encode(_ chunks: [PromptChunk], clipSkip: Int, pooled: Bool, embeddings: PromptEmbeddings = .none) throws -> PromptEncoding {
        let selection = states.selection(clipSkip: clipSkip, layers: encoder.layersToRun)
        var parts: [Tensor] = []
        var firstPooled: Tensor?
        for (index, chunk) in chunks.enumerated() {
            let overrides = try chunk.embeddings.map { p in
                TokenEmbeddingOverride(position: p.offset, vectors: try vectors(p.name, embeddings: embeddings, field: "prompt"))
            }
            let encoded = try encoder.encode(ids: [chunk.ids], states: selection, pooled: pooled && index == 0,
                                             overrides: overrides.isEmpty ? [] : [overrides])
            if index == 0 { firstPooled = encoded.pooled }
            parts.append(Self.applyWeights(encoded.states, chunk.weights))
        }
        return PromptEncoding(states: parts.count == 1 ? parts[0] : concat(parts, axis: 1), pooled: firstPooled)
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
