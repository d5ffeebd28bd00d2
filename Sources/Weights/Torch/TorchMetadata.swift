/// A plain value beside the tensors of a torch checkpoint (hyper-parameters such as an A1111 hypernetwork's
/// `layer_structure`, `activation_func`, `is_layer_norm`): decoded data only, never an object.
public enum TorchMetadata: Equatable, Sendable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A list or tuple of numbers.
    case numbers([Double])

    init?(_ value: PickleValue) {
        switch value {
        case .none: self = .none
        case let .bool(b): self = .bool(b)
        case let .int(i): self = .int(i)
        case let .float(f): self = .double(f)
        case let .numpyScalar(v?): self = .double(v)
        case let .string(s): self = .string(s)
        case let .list(l): guard let n = Self.numbers(l.items) else { return nil }; self = .numbers(n)
        case let .tuple(t): guard let n = Self.numbers(t.items) else { return nil }; self = .numbers(n)
        default: return nil
        }
    }

    private static func numbers(_ items: [PickleValue]) -> [Double]? {
        var out: [Double] = []
        for item in items {
            switch item {
            case let .int(i): out.append(Double(i))
            case let .float(f): out.append(f)
            default: return nil
            }
        }
        return out
    }

    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    public var isNone: Bool { self == .none }
    public var numbers: [Double]? { if case let .numbers(n) = self { return n } else { return nil } }
}
