/// Why a network could not be built from a configuration and a weight source.
///
/// Every case names the offending tensor or configuration field so a failed load can be acted on
/// without a debugger: "which file, which tensor, what shape did you expect, what did you find".
public enum ModelLoadError: Error, Equatable, CustomStringConvertible {
    /// The network needs this tensor and the source does not have it.
    case missingTensor(name: String, expectedShape: [Int])
    /// The tensor exists with another shape than the configuration implies.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// Tensors the source holds for this component that no layer consumed (sorted, all of them).
    case unexpectedTensors(names: [String])
    /// The source failed to read or convert a tensor it announced.
    case readFailed(name: String, reason: String)
    /// A configuration value the network cannot honour (field name and the value found).
    case unsupportedConfig(field: String, value: String)
    /// A configuration that contradicts itself (e.g. list lengths differ).
    case invalidConfig(String)

    public var description: String {
        switch self {
        case let .missingTensor(name, shape):
            return "missing tensor '\(name)' (expected shape \(shape))"
        case let .shapeMismatch(name, expected, found):
            return "tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unexpectedTensors(names):
            let shown = names.prefix(20).joined(separator: ", ")
            let more = names.count > 20 ? " … and \(names.count - 20) more" : ""
            return "unexpected tensors not used by the network (\(names.count)): \(shown)\(more)"
        case let .readFailed(name, reason):
            return "cannot read tensor '\(name)': \(reason)"
        case let .unsupportedConfig(field, value):
            return "unsupported configuration \(field) = \(value)"
        case let .invalidConfig(message):
            return "invalid configuration: \(message)"
        }
    }
}

/// Config files come from disk (possibly hostile): sizes and counts must be positive before any range or
/// shape is built from them.
func requirePositive(_ values: [Int], _ field: String, allowZero: Bool = false) throws {
    for value in values where value < (allowZero ? 0 : 1) {
        throw ModelLoadError.invalidConfig("\(field) must be \(allowZero ? "≥ 0" : "≥ 1"), found \(value)")
    }
}
