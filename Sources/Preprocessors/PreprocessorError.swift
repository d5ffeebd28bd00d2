/// What can be wrong with a preprocessor request. Each case names the request member (`field`, e.g. `low` or
/// `control[1].low` when the caller gave a prefix) so the daemon can answer with a precise -32602.
public enum PreprocessorError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownPreprocessor(field: String, name: String, known: [String])
    case invalidParameter(field: String, reason: String)
    /// The image cannot be read as RGB or grey (CMYK, float samples, other band counts).
    case unsupportedImage(detail: String)

    /// The request member the error is about; `nil` for the image itself (the caller knows its field).
    public var field: String? {
        switch self {
        case .unknownPreprocessor(let field, _, _), .invalidParameter(let field, _): return field
        case .unsupportedImage: return nil
        }
    }

    /// The reason without the field, for errors that put the field in front themselves.
    public var reason: String {
        switch self {
        case .unknownPreprocessor(_, let name, let known):
            return "unknown preprocessor \"\(name)\"; use one of \(known.joined(separator: ", "))"
        case .invalidParameter(_, let reason): return reason
        case .unsupportedImage(let detail): return detail
        }
    }

    public var description: String {
        if let field { return "\(field): \(reason)" }
        return reason
    }
}
