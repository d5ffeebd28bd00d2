import Weights

/// Why a model on disk could not be opened. Each case carries the path and, for network failures,
/// the component and the strict loader's reason (which names the tensor).
public enum CheckpointError: Error, CustomStringConvertible {
    case notFound(path: String)
    /// A file whose extension is not a checkpoint format we read.
    case unsupportedFile(path: String)
    /// A diffusers folder lacks a file it needs (config or weights).
    case missingFile(path: String)
    case invalidJSON(path: String, reason: String)
    /// A well-formed config asks for something we do not implement (e.g. `trained_betas`).
    case unsupportedConfig(path: String, reason: String)
    /// The file format layer failed (malformed safetensors, refused pickle, …).
    case unreadable(path: String, reason: String)
    /// The tensors do not look like an SD 1.x/2.x checkpoint.
    case unrecognised(path: String, reason: String)
    /// A network refused its weights or configuration.
    case component(name: String, path: String, error: ModelLoadError)
    /// A single file's component could not be presented with diffusers names (missing/unexpected LDM tensors).
    case mapping(path: String, error: NameMappingError)

    public var description: String {
        switch self {
        case let .notFound(path): return "no such file or folder: \(path)"
        case let .unsupportedFile(path):
            return "\(path): not a diffusers folder, .safetensors, .ckpt, .pt or .pth file"
        case let .missingFile(path): return "missing \(path)"
        case let .invalidJSON(path, reason): return "\(path): invalid JSON (\(reason))"
        case let .unsupportedConfig(path, reason): return "\(path): \(reason)"
        case let .unreadable(path, reason): return "\(path): \(reason)"
        case let .unrecognised(path, reason): return "\(path): not a recognised Stable Diffusion 1.x/2.x checkpoint (\(reason))"
        case let .component(name, path, error): return "\(path): \(name): \(error)"
        case let .mapping(path, error): return "\(path): \(error)"
        }
    }
}
