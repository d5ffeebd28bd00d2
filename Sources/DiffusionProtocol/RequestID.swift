import StrictJSON

/// A JSON-RPC id: the protocol accepts integers and strings (null and fractional ids are refused so that
/// every job has a usable handle for `cancel`).
public enum RequestID: Sendable, Hashable, CustomStringConvertible {
    case integer(Int64)
    case string(String)

    public init?(json: JSONValue) {
        switch json {
        case .integer(let i): self = .integer(i)
        case .string(let s): self = .string(s)
        default: return nil
        }
    }

    public var json: JSONValue {
        switch self {
        case .integer(let i): return .integer(i)
        case .string(let s): return .string(s)
        }
    }

    public var description: String {
        switch self {
        case .integer(let i): return String(i)
        case .string(let s): return JSONWriter.serialize(.string(s))
        }
    }
}
