/// Why a hypernetwork cannot be used; every case names it (its name in the hypernetworks folder).
public enum HypernetworkError: Error, Equatable, CustomStringConvertible {
    /// Unreadable, or not an A1111 hypernetwork (no width-keyed module pairs, bad shapes, unknown activation).
    case corrupt(name: String, reason: String)
    case notFound(name: String, available: [String])
    /// None of its module widths is the width of an attention context of the model.
    case noMatchingWidth(name: String, widths: [Int], modelWidths: [Int])

    public var description: String {
        switch self {
        case let .corrupt(name, reason): return "hypernetwork '\(name)' cannot be used: \(reason)"
        case let .notFound(name, available):
            return "no hypernetwork '\(name)' in the hypernetworks folder (available: \(available.isEmpty ? "none" : available.prefix(20).joined(separator: ", ")))"
        case let .noMatchingWidth(name, widths, modelWidths):
            return "hypernetwork '\(name)' has modules for widths \(widths), none of which this model's attention contexts have (\(modelWidths))"
        }
    }
}
