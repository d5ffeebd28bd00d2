/// Why an adapter of a request cannot be applied; the generation plugins report these as -32602 naming the
/// entry (`loras[1]`, or the prompt tag).
public enum LoRAError: Error, Equatable, Sendable, CustomStringConvertible {
    case noModelsDirectory
    case invalidName(String)
    case notFound(name: String, available: [String])
    case unreadable(name: String, reason: String)
    case wrongFamily(name: String, adapterFamily: String, model: String, modelFamily: String)
    case matchesNothing(name: String, model: String, sampleKeys: [String])
    case invalidWeight(name: String, reason: String)
    case cannotPatch(model: String, reason: String)

    public var description: String {
        switch self {
        case .noModelsDirectory: return "no models directory is configured, so there is no loras/ folder"
        case let .invalidName(name): return "\"\(name)\" is not a name inside loras/ (no absolute paths, no '.' or '..')"
        case let .notFound(name, available):
            let list = available.isEmpty ? "none" : available.prefix(50).joined(separator: ", ")
            return "LoRA \"\(name)\" not found in loras/ (available: \(list))"
        case let .unreadable(name, reason): return "LoRA \"\(name)\" cannot be read: \(reason)"
        case let .wrongFamily(name, adapterFamily, model, modelFamily):
            return "LoRA \"\(name)\" is for \(adapterFamily), model \"\(model)\" is \(modelFamily)"
        case let .matchesNothing(name, model, keys):
            return "LoRA \"\(name)\" matches no layer of model \"\(model)\" (keys such as \(keys.prefix(3).joined(separator: ", ")))"
        case let .invalidWeight(name, reason): return "LoRA \"\(name)\": \(reason)"
        case let .cannotPatch(model, reason): return "model \"\(model)\" cannot take adapters: \(reason)"
        }
    }
}

/// An `LoRAError` with the request field that named the adapter (`loras[1]`, `prompt`).
public struct LoRARequestError: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    /// The prompt tag the adapter came from, if it did.
    public let tag: String?
    public let error: LoRAError

    public init(_ request: LoRARequest, _ error: LoRAError) {
        self.field = request.field
        self.tag = request.tag
        self.error = error
    }

    /// The error without the field: prefixed with the tag when it came from one.
    public var reason: String { tag.map { "\($0): \(error)" } ?? error.description }

    public var description: String { "\(field): \(reason)" }
}
