extension JSONWriter {
    /// Multi-line form for files people read and diff (protocol/schema/): keys sorted, 2-space indent, one member
    /// or element per line, empty containers as `{}` and `[]`; no trailing newline.
    public static func prettyPrinted(_ value: JSONValue) -> String {
        var out = ""
        writePretty(value, indent: "", into: &out)
        return out
    }

    static func writePretty(_ value: JSONValue, indent: String, into out: inout String) {
        let inner = indent + "  "
        switch value {
        case .array(let a) where !a.isEmpty:
            out += "[\n"
            for (n, element) in a.enumerated() {
                out += inner
                writePretty(element, indent: inner, into: &out)
                out += n == a.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let o) where !o.isEmpty:
            out += "{\n"
            let keys = o.keys.sorted()
            for (n, key) in keys.enumerated() {
                out += inner
                writeString(key, into: &out)
                out += ": "
                if let v = o[key] { writePretty(v, indent: inner, into: &out) }
                out += n == keys.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        default:
            write(value, into: &out)
        }
    }
}
