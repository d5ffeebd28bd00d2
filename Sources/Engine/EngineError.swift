/// Failures of the generation engine a client can act on; each carries what was wrong.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case noModelsDirectory
    case invalidModelName(String)
    case modelNotFound(name: String, available: [String])
    case upscalerNotFound(name: String, directory: String, available: [String])
    /// A model of another kind than checkpoints and upscalers (`kind` as `models.list` names it) not in its folder.
    case kindNotFound(kind: String, name: String, directory: String, available: [String])
    case modelLoadFailed(name: String, reason: String)
    case invalidSize(width: Int, height: Int, reason: String)
    case invalidParameter(field: String, reason: String)
    case unsupportedModel(name: String, reason: String)
    case cancelled(step: Int)

    public var description: String {
        switch self {
        case .noModelsDirectory:
            return "no models directory is configured (start the daemon with --models DIR)"
        case let .invalidModelName(name):
            return "model name \"\(name)\" is not a plain name (no '/', no leading '.')"
        case let .modelNotFound(name, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "model \"\(name)\" not found in the models directory (available: \(list))"
        case let .upscalerNotFound(name, directory, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "no upscaler named '\(name)' in \(directory) (available: \(list))"
        case let .kindNotFound(kind, name, directory, available):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "no \(kind) named '\(name)' in \(directory) (available: \(list))"
        case let .modelLoadFailed(name, reason):
            return "model \"\(name)\" failed to load: \(reason)"
        case let .invalidSize(width, height, reason):
            return "size \(width)x\(height) is invalid: \(reason)"
        case let .invalidParameter(field, reason):
            return "\(field): \(reason)"
        case let .unsupportedModel(name, reason):
            return "model \"\(name)\" cannot be used here: \(reason)"
        case let .cancelled(step):
            return "cancelled before step \(step + 1)"
        }
    }
}
