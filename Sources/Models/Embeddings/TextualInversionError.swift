/// Why an embedding file cannot be used; every case names the embedding (its name in the embeddings folder).
public enum TextualInversionError: Error, Equatable, CustomStringConvertible {
    /// The file holds none of the layouts A1111 reads (string_to_param, clip_l + clip_g, one tensor).
    case unrecognised(name: String, tensors: [String])
    case badShape(name: String, tensor: String, shape: [Int], reason: String)
    /// The file could not be read at all (corrupt header, forbidden pickle global, ...).
    case unreadable(name: String, reason: String)
    /// The model's text encoder takes vectors of another width (or an SDXL file on a single-encoder model).
    case wrongWidth(name: String, has: String, expected: String)

    public var description: String {
        switch self {
        case let .unrecognised(name, tensors):
            return "embedding '\(name)' is neither A1111 (string_to_param), SDXL (clip_l + clip_g) nor a single-tensor file (tensors: \(tensors.prefix(8).joined(separator: ", ")))"
        case let .badShape(name, tensor, shape, reason):
            return "embedding '\(name)': tensor '\(tensor)' has shape \(shape): \(reason)"
        case let .unreadable(name, reason):
            return "embedding '\(name)' cannot be read: \(reason)"
        case let .wrongWidth(name, has, expected):
            return "embedding '\(name)' has \(has); this model expects \(expected)"
        }
    }
}
