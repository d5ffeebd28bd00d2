/// Why a tokenizer could not be built from its files. Encoding itself never fails: every byte has a
/// symbol, so any text can be tokenized.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    case fileUnreadable(path: String, detail: String)
    case invalidJSON(path: String, detail: String)
    /// vocab.json must map token strings to distinct non-negative integer ids.
    case invalidVocabulary(path: String, detail: String)
    /// A merges.txt line that is not two space-separated symbols.
    case invalidMerge(path: String, line: Int, text: String)
    /// A merge whose parts or result are missing from the vocabulary (the tokenizers library refuses these too).
    case mergeTokenNotInVocabulary(path: String, line: Int, token: String)
    /// A special token (BOS/EOS/pad/unk) that the vocabulary does not contain.
    case specialTokenNotInVocabulary(role: String, token: String)
    /// Byte symbols missing from the vocabulary with no unknown token to stand in for them.
    case incompleteByteAlphabet(missing: String)
    case invalidMaximumLength(Int)

    public var description: String {
        switch self {
        case let .fileUnreadable(path, detail): return "\(path): cannot read: \(detail)"
        case let .invalidJSON(path, detail): return "\(path): invalid JSON: \(detail)"
        case let .invalidVocabulary(path, detail): return "\(path): invalid vocabulary: \(detail)"
        case let .invalidMerge(path, line, text): return "\(path):\(line): invalid merge '\(text)' (expected two symbols)"
        case let .mergeTokenNotInVocabulary(path, line, token):
            return "\(path):\(line): merge token '\(token)' is not in the vocabulary"
        case let .specialTokenNotInVocabulary(role, token): return "\(role) token '\(token)' is not in the vocabulary"
        case let .incompleteByteAlphabet(missing):
            return "byte symbol '\(missing)' is not in the vocabulary and there is no unknown token"
        case let .invalidMaximumLength(n): return "maximum length \(n) cannot hold BOS and EOS"
        }
    }
}
