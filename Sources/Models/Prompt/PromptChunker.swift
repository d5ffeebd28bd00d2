/// A1111's long-prompt handling: the weighted segments of a prompt are tokenized, split into chunks of
/// 75 tokens, and each chunk becomes a full 77-token CLIP input (BOS, tokens, EOS, padding) whose
/// encodings are later concatenated along the sequence axis.
///
/// Details kept from stable-diffusion-webui (`sd_hijack_clip.tokenize_line`):
/// - A chunk that fills up within 20 tokens after a comma is cut after that comma and the rest moves to
///   the next chunk (`comma_padding_backtrack` = 20, the default).
/// - `BREAK` ends the current chunk early.
/// - BOS/EOS/padding carry weight 1. Padding uses the tokenizer's pad id (EOS for SD1, "!" for SD2),
///   which is what A1111 ends up with after replacing everything after the first EOS by the pad id,
///   and what diffusers feeds for a prompt that fits in one chunk.
/// - Textual-inversion embeddings (`EmbeddingVocabulary`): where a name's tokens appear, they are replaced by one
///   placeholder id (0, as A1111) per vector, weighted like the words around them; an embedding that does not fit
///   in what is left of the chunk starts the next one (it is never split). Unlike A1111, a comma back-track that
///   moves tokens to the next chunk moves their embedding placements with them (A1111 leaves them behind, pointing
///   at padding).
public struct PromptChunk: Equatable, Sendable {
    /// `chunkLength + 2` ids.
    public var ids: [Int32]
    public var weights: [Double]
    /// Embedding vectors to put in place of placeholder ids (offsets into `ids`).
    public var embeddings: [EmbeddingPlacement]

    public init(ids: [Int32], weights: [Double], embeddings: [EmbeddingPlacement] = []) {
        self.ids = ids
        self.weights = weights
        self.embeddings = embeddings
    }
}

public struct PromptChunker: Sendable {
    public let tokenizer: CLIPTokenizer
    public let chunkLength: Int
    public let commaBacktrack: Int
    let commaID: Int32?

    public init(tokenizer: CLIPTokenizer, commaBacktrack: Int = 20) {
        self.tokenizer = tokenizer
        chunkLength = tokenizer.maxLength - 2
        self.commaBacktrack = commaBacktrack
        let comma = tokenizer.tokenize(",")
        commaID = comma.count == 1 ? comma[0] : nil
    }

    /// Token ids and weights per chunk, without special tokens (for tests and the `parameters` text).
    public func chunks(_ prompt: String, embeddings: EmbeddingVocabulary = .empty) -> [PromptChunk] {
        chunks(segments: PromptAttention.parse(prompt), embeddings: embeddings)
    }

    /// The embedding names `prompt` uses (vector counts in `embeddings` do not matter here), in order of use.
    public func embeddingNames(in prompt: String, embeddings: EmbeddingVocabulary) -> [String] {
        guard !embeddings.isEmpty else { return [] }
        var names: [String] = []
        for segment in PromptAttention.parse(prompt) where !segment.isBreak {
            let tokens = tokenizer.tokenize(segment.text)
            var position = 0
            while position < tokens.count {
                if let e = embeddings.match(tokens, at: position) {
                    if !names.contains(e.name) { names.append(e.name) }
                    position += e.ids.count
                } else {
                    position += 1
                }
            }
        }
        return names
    }

    public func chunks(segments: [WeightedSegment], embeddings: EmbeddingVocabulary = .empty) -> [PromptChunk] {
        var result: [PromptChunk] = []
        var tokens: [Int32] = []
        var weights: [Double] = []
        // Offsets into `tokens` (no BOS yet).
        var placements: [EmbeddingPlacement] = []
        var lastComma = -1

        func close() {
            let pad = chunkLength - tokens.count
            let ids = [tokenizer.bosID] + tokens + [tokenizer.eosID] + [Int32](repeating: tokenizer.padID, count: max(pad, 0))
            let w = [1.0] + weights + [1.0] + [Double](repeating: 1, count: max(pad, 0))
            let shifted = placements.map { EmbeddingPlacement(name: $0.name, offset: $0.offset + 1, count: $0.count) }
            result.append(PromptChunk(ids: ids, weights: w, embeddings: shifted))
            tokens = []
            weights = []
            placements = []
            lastComma = -1
        }

        for segment in segments {
            if segment.isBreak { close(); continue }
            let segmentTokens = tokenizer.tokenize(segment.text)
            var position = 0
            while position < segmentTokens.count {
                let token = segmentTokens[position]
                if token == commaID {
                    lastComma = tokens.count
                } else if commaBacktrack != 0, tokens.count == chunkLength, lastComma != -1,
                          tokens.count - lastComma <= commaBacktrack {
                    let cut = lastComma + 1
                    let movedTokens = Array(tokens[cut...])
                    let movedWeights = Array(weights[cut...])
                    let moved = placements.filter { $0.offset >= cut }
                        .map { EmbeddingPlacement(name: $0.name, offset: $0.offset - cut, count: $0.count) }
                    placements.removeAll { $0.offset >= cut }
                    tokens.removeSubrange(cut...)
                    weights.removeSubrange(cut...)
                    close()
                    tokens = movedTokens
                    weights = movedWeights
                    placements = moved
                }
                if tokens.count == chunkLength { close() }
                guard let embedding = embeddings.match(segmentTokens, at: position) else {
                    tokens.append(token)
                    weights.append(segment.weight)
                    position += 1
                    continue
                }
                if tokens.count + embedding.vectors > chunkLength { close() }
                placements.append(EmbeddingPlacement(name: embedding.name, offset: tokens.count, count: embedding.vectors))
                tokens += [Int32](repeating: 0, count: embedding.vectors)
                weights += [Double](repeating: segment.weight, count: embedding.vectors)
                position += embedding.ids.count
            }
        }
        if !tokens.isEmpty || result.isEmpty { close() }
        return result
    }

    /// The chunks of an empty prompt, used to pad the shorter of prompt/negative prompt (A1111).
    public var emptyChunk: PromptChunk { chunks(segments: [WeightedSegment("", 1)])[0] }
}
