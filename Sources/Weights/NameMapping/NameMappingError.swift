/// Why a single-file checkpoint cannot be presented with diffusers names. Every case names the
/// component and the offending original (LDM) tensor names, so a user can see what the file lacks or has extra.
public enum NameMappingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Tensors the component needs that the checkpoint does not have.
    case missingTensors(component: String, names: [String])
    /// Tensors under the component's prefix that no rule consumes (strict loading).
    case unexpectedTensors(component: String, names: [String])
    /// A tensor whose shape does not fit the transformation it needs (e.g. a fused in_proj not divisible by 3).
    case shapeMismatch(component: String, name: String, shape: [Int], expected: String)
    /// The checkpoint has no tensors for the component at all, or its structure cannot be recognised.
    case componentNotFound(component: String, prefix: String)
    case unrecognisedStructure(component: String, detail: String)

    public var description: String {
        func list(_ names: [String]) -> String {
            let shown = names.prefix(5).joined(separator: ", ")
            return names.count > 5 ? "\(shown) and \(names.count - 5) more" : shown
        }
        switch self {
        case let .missingTensors(component, names):
            return "\(component): checkpoint lacks \(names.count) tensor(s): \(list(names))"
        case let .unexpectedTensors(component, names):
            return "\(component): checkpoint has \(names.count) unexpected tensor(s): \(list(names))"
        case let .shapeMismatch(component, name, shape, expected):
            return "\(component): tensor '\(name)' has shape \(shape), expected \(expected)"
        case let .componentNotFound(component, prefix):
            return "\(component): no tensors under '\(prefix)' in the checkpoint"
        case let .unrecognisedStructure(component, detail):
            return "\(component): unrecognised layout: \(detail)"
        }
    }
}
