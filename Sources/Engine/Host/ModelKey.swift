/// Identifies one resident model: its kind, its name in the models folder, and a variant of it (the same
/// checkpoint patched with a set of adapters is another variant; "" is the file as stored).
public struct ModelKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var kind: ModelKind
    public var name: String
    public var variant: String

    public init(kind: ModelKind, name: String, variant: String = "") {
        self.kind = kind
        self.name = name
        self.variant = variant
    }

    public static func < (a: ModelKey, b: ModelKey) -> Bool {
        (a.kind, a.name, a.variant) < (b.kind, b.name, b.variant)
    }

    public var description: String {
        variant.isEmpty ? "\(kind.rawValue):\(name)" : "\(kind.rawValue):\(name)[\(variant)]"
    }
}
