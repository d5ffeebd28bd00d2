/// Serialises a `JSONValue` on one line (no raw newlines can appear: they are escaped), keys sorted so that
/// output is deterministic and transcripts can be compared byte for byte where that matters.
public enum JSONWriter {
    public static func serialize(_ value: JSONValue) -> String {
        var out = ""
        write(value, into: &out)
        return out
    }

    public static func serializeBytes(_ value: JSONValue) -> [UInt8] {
        Array(serialize(value).utf8)
    }

    /// One string as a JSON string literal, for writers that lay out the rest of a document themselves
    /// (the safetensors header's fixed field order).
    public static func quoted(_ s: String) -> String {
        var out = ""
        writeString(s, into: &out)
        return out
    }

    static func write(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .double(let d): out += formatDouble(d)
        case .string(let s): writeString(s, into: &out)
        case .array(let a):
            out += "["
            for (n, element) in a.enumerated() {
                if n > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (n, key) in o.keys.sorted().enumerated() {
                if n > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                if let v = o[key] { write(v, into: &out) }
            }
            out += "}"
        }
    }

    static func formatDouble(_ d: Double) -> String {
        // JSON has no NaN/Infinity; the protocol never produces them, but never emit invalid JSON either.
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) + ".0" }
        return "\(d)"  // Swift prints the shortest round-tripping form, e.g. 0.1 or 1e-05, all valid JSON
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
