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
public struct PromptChunk: Equatable, Sendable {
    /// `chunkLength + 2` ids.
    public var ids: [Int32]
    public var weights: [Double]
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
    public func chunks(_ prompt: String) -> [PromptChunk] {
        chunks(segments: PromptAttention.parse(prompt))
    }

    public func chunks(segments: [WeightedSegment]) -> [PromptChunk] {
        var result: [PromptChunk] = []
        var tokens: [Int32] = []
        var weights: [Double] = []
        var lastComma = -1

        func close() {
            let pad = chunkLength - tokens.count
            let ids = [tokenizer.bosID] + tokens + [tokenizer.eosID] + [Int32](repeating: tokenizer.padID, count: max(pad, 0))
            let w = [1.0] + weights + [1.0] + [Double](repeating: 1, count: max(pad, 0))
            result.append(PromptChunk(ids: ids, weights: w))
            tokens = []
            weights = []
            lastComma = -1
        }

        for segment in segments {
            if segment.isBreak { close(); continue }
            for token in tokenizer.tokenize(segment.text) {
                if token == commaID {
                    lastComma = tokens.count
                } else if commaBacktrack != 0, tokens.count == chunkLength, lastComma != -1,
                          tokens.count - lastComma <= commaBacktrack {
                    let cut = lastComma + 1
                    let movedTokens = Array(tokens[cut...])
                    let movedWeights = Array(weights[cut...])
                    tokens.removeSubrange(cut...)
                    weights.removeSubrange(cut...)
                    close()
                    tokens = movedTokens
                    weights = movedWeights
                }
                if tokens.count == chunkLength { close() }
                tokens.append(token)
                weights.append(segment.weight)
            }
        }
        if !tokens.isEmpty || result.isEmpty { close() }
        return result
    }

    /// The chunks of an empty prompt, used to pad the shorter of prompt/negative prompt (A1111).
    public var emptyChunk: PromptChunk { chunks(segments: [WeightedSegment("", 1)])[0] }
}
