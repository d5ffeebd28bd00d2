/// CLIP's pre-tokenization: the pieces matched by
/// `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
/// (alternatives tried in that order at each position, everything unmatched — whitespace — dropped),
/// written as a scanner over unicode scalars. Letters are general category L*, numbers N*; each number
/// scalar is its own piece, other non-space scalars (punctuation, symbols, marks, emoji) form greedy runs.
/// The byte-level pre-tokenizer that follows in transformers re-splits each piece with GPT-2's pattern.
/// That leaves letter runs, single numbers, contractions and punctuation runs as they are, but cuts the
/// literal "<|endoftext|>" piece into "<|", "endoftext", "|>" — done here for the literals only.
enum CLIPPreTokenizer {
    private static let literals: [[Unicode.Scalar]] = [
        Array("<|startoftext|>".unicodeScalars), Array("<|endoftext|>".unicodeScalars),
    ]
    private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
        Array($0.unicodeScalars)
    }

    enum Kind { case space, letter, number, other }

    static func kind(_ s: Unicode.Scalar) -> Kind {
        if s.properties.isWhitespace { return .space }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The pieces of already-normalized text, as index ranges into `text`.
    static func split(_ text: [Unicode.Scalar]) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var i = 0
        let n = text.count
        func matches(_ literal: [Unicode.Scalar], at start: Int) -> Bool {
            guard start + literal.count <= n else { return false }
            for (offset, s) in literal.enumerated() where text[start + offset] != s { return false }
            return true
        }
        scan: while i < n {
            for literal in literals where matches(literal, at: i) {
                // GPT-2's re-split: runs of one kind ("<|", letters, "|>").
                var start = i
                for j in (i + 1)...(i + literal.count) where j == i + literal.count || kind(text[j]) != kind(text[start]) {
                    pieces.append(start..<j)
                    start = j
                }
                i += literal.count
                continue scan
            }
            for contraction in contractions where matches(contraction, at: i) {
                pieces.append(i..<(i + contraction.count))
                i += contraction.count
                continue scan
            }
            let k = kind(text[i])
            var j = i + 1
            switch k {
            case .space:
                i = j
                continue scan
            case .number:
                break
            case .letter, .other:
                while j < n, kind(text[j]) == k { j += 1 }
            }
            pieces.append(i..<j)
            i = j
        }
        return pieces
    }
}
