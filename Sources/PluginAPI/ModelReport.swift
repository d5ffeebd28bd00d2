import StrictJSON
import DiffusionProtocol
import Engine

/// How resident and listed models appear on the wire, shared by `status` and `models.*` so both describe a
/// model with the same members.
public enum ModelReport {
    /// `{"kind", "name", "path", "bytes", ...details}` (+ `variant` when not the stored file).
    public static func resident(_ info: ResidentModelInfo) -> JSONValue {
        var o = details(info.details)
        o["kind"] = .string(info.key.kind.rawValue)
        o["name"] = .string(info.key.name)
        if !info.key.variant.isEmpty { o["variant"] = .string(info.key.variant) }
        o["path"] = .string(info.path)
        o["bytes"] = JSONValue(info.bytes)
        return .object(o)
    }

    /// `{"name", "kind", "format", "path", "loaded", "bytes" (when loaded), ...details, "error" (when unreadable)}`.
    public static func listing(_ l: ModelListing) -> JSONValue {
        var o = details(l.details)
        o["name"] = .string(l.name)
        o["kind"] = .string(l.kind.rawValue)
        o["format"] = .string(l.format)
        o["path"] = .string(l.path)
        o["loaded"] = .bool(l.loaded)
        if let bytes = l.bytes { o["bytes"] = JSONValue(bytes) }
        if let problem = l.problem { o["error"] = .string(problem) }
        return .object(o)
    }

    /// The host's budget figures, as every `models.*` result carries them.
    public static func budget(_ host: ModelHost) -> [String: JSONValue] {
        ["resident_bytes": JSONValue(host.residentBytes),
         "memory_budget_bytes": host.budgetBytes.map { JSONValue($0) } ?? .null]
    }

    /// Detected facts are kept as text by the engine; on the wire booleans and numbers are typed.
    static func details(_ d: [String: String]) -> [String: JSONValue] {
        d.mapValues { text in
            if text == "true" { return .bool(true) }
            if text == "false" { return .bool(false) }
            if let i = Int(text) { return JSONValue(i) }
            if text.contains("."), let x = Double(text), x.isFinite { return .double(x) }
            return .string(text)
        }
    }
}
