import DiffusionProtocol
import StrictJSON

/// A validation failure: `field` is a JSON-pointer-like path ("output.path", "size[1]"), `reason` what is wrong.
public struct SchemaViolation: Error, Equatable, Sendable {
    public var field: String
    public var reason: String
}

/// Validates values against the JSON Schema subset the plugins use: type (string or list), properties,
/// required, additionalProperties (false or a schema), enum, const, minimum/maximum, exclusiveMinimum,
/// minLength/maxLength, items, minItems/maxItems, oneOf (e.g. an image given by {path} or {base64}),
/// and description (ignored). No string anywhere in params may hold a NUL (U+0000): every text member ends up
/// as a C string (paths, model names, libvips metadata) or in a PNG text chunk, whose format uses NUL as its
/// separator, so a NUL would otherwise cut the text short or fail the job at delivery, after the work is done.
/// Unknown schema keywords are a programming error and are reported as such so
/// that a plugin cannot silently publish a constraint the daemon does not enforce.
public enum SchemaValidator {
    static let knownKeywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "enum", "const", "minimum", "maximum",
        "exclusiveMinimum", "minLength", "maxLength", "items", "minItems", "maxItems", "oneOf", "description",
        "title", "default", "examples", "format",
    ]

    public static func validate(_ value: JSONValue, against schema: JSONValue, at path: String = "") throws {
        guard case .object(let s) = schema else { return }  // `true`/absent schema accepts anything
        for key in s.keys where !knownKeywords.contains(key) {
            throw SchemaViolation(field: path, reason: "has a schema keyword the daemon does not implement (\(key)); this is a plugin bug")
        }
        if let type = s["type"] { try checkType(value, type, path) }
        if let c = s["const"], !value.jsonEquals(c) {
            throw SchemaViolation(field: path, reason: "must be \(JSONWriter.serialize(c))")
        }
        if case .array(let options)? = s["enum"], !options.contains(where: { $0.jsonEquals(value) }) {
            throw SchemaViolation(field: path, reason: "must be one of \(options.map { JSONWriter.serialize($0) }.joined(separator: ", "))")
        }
        if let n = value.doubleValue, value.typeName != "boolean" {
            if let min = s["minimum"]?.doubleValue, n < min {
                throw SchemaViolation(field: path, reason: "must be at least \(display(s["minimum"]))")
            }
            if let min = s["exclusiveMinimum"]?.doubleValue, n <= min {
                throw SchemaViolation(field: path, reason: "must be greater than \(display(s["exclusiveMinimum"]))")
            }
            if let max = s["maximum"]?.doubleValue, n > max {
                throw SchemaViolation(field: path, reason: "must be at most \(display(s["maximum"]))")
            }
        }
        if case .string(let str) = value {
            if str.utf8.contains(0) {
                throw SchemaViolation(field: path, reason: "must not contain a NUL character (U+0000)")
            }
            let length = str.unicodeScalars.count
            if let min = s["minLength"]?.intValue, length < min {
                throw SchemaViolation(field: path, reason: min == 1 ? "must not be empty" : "must be at least \(min) characters long")
            }
            if let max = s["maxLength"]?.intValue, length > max {
                throw SchemaViolation(field: path, reason: "must be at most \(max) characters long (got \(length))")
            }
        }
        if case .array(let items) = value {
            if let min = s["minItems"]?.intValue, items.count < min {
                throw SchemaViolation(field: path, reason: "must have at least \(min) items")
            }
            if let max = s["maxItems"]?.intValue, items.count > max {
                throw SchemaViolation(field: path, reason: "must have at most \(max) items")
            }
            if let itemSchema = s["items"] {
                for (i, item) in items.enumerated() { try validate(item, against: itemSchema, at: "\(path)[\(i)]") }
            }
        }
        if case .object(let members) = value {
            let properties = s["properties"]?.objectValue ?? [:]
            if case .array(let required)? = s["required"] {
                for case .string(let name) in required where members[name] == nil {
                    throw SchemaViolation(field: join(path, name), reason: "is required")
                }
            }
            for name in members.keys.sorted() {
                guard let member = members[name] else { continue }
                if let propertySchema = properties[name] {
                    try validate(member, against: propertySchema, at: join(path, name))
                } else if let extra = s["additionalProperties"] {
                    if extra == .bool(false) {
                        let known = properties.keys.sorted().joined(separator: ", ")
                        throw SchemaViolation(field: join(path, name), reason: "is not a known parameter (known: \(known))")
                    }
                    try validate(member, against: extra, at: join(path, name))
                }
            }
        }
        if case .array(let options)? = s["oneOf"] {
            try checkOneOf(value, options, path)
        }
    }

    static func checkOneOf(_ value: JSONValue, _ options: [JSONValue], _ path: String) throws {
        var failures: [(option: JSONValue, violation: SchemaViolation)] = []
        var matches = 0
        for option in options {
            do { try validate(value, against: option, at: path); matches += 1 } catch let v as SchemaViolation {
                failures.append((option, v))
            }
        }
        if matches == 1 { return }
        if matches > 1 { throw SchemaViolation(field: path, reason: "matches more than one allowed form; give exactly one") }
        // The form the client meant is the one whose required members are all present: report its failure.
        // None or several such forms means the members themselves are the problem: say which forms exist.
        let forms = options.compactMap { $0["description"]?.stringValue }
        let formList = forms.isEmpty ? "one of the allowed forms" : forms.joined(separator: " or ")
        if case .object(let members) = value {
            let meant = failures.filter { failure in
                let required = failure.option["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
                return !required.isEmpty && required.allSatisfy { members[$0] != nil }
            }
            if meant.count == 1 { throw meant[0].violation }
            if meant.count > 1 {
                let keys = meant.compactMap { $0.option["required"]?.arrayValue?.first?.stringValue }
                throw SchemaViolation(field: path, reason: "must have only one of \(keys.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            throw SchemaViolation(field: path, reason: "must be \(formList)")
        }
        if failures.count == 1 { throw failures[0].violation }
        throw SchemaViolation(field: path, reason: "must be \(formList)")
    }

    static func checkType(_ value: JSONValue, _ type: JSONValue, _ path: String) throws {
        let allowed: [String]
        switch type {
        case .string(let t): allowed = [t]
        case .array(let ts): allowed = ts.compactMap(\.stringValue)
        default: return
        }
        for t in allowed where matches(value, t) { return }
        throw SchemaViolation(field: path, reason: "must be \(allowed.map(article).joined(separator: " or ")), not \(article(value.typeName))")
    }

    static func matches(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        case ("number", .integer), ("number", .double), ("integer", .integer): return true
        case ("integer", .double(let d)): return d == d.rounded() && abs(d) < 9e15
        default: return false
        }
    }

    static func article(_ type: String) -> String {
        switch type {
        case "null": return "null"
        case "integer", "object", "array": return "an \(type)"
        default: return "a \(type)"
        }
    }

    static func display(_ v: JSONValue?) -> String { v.map { JSONWriter.serialize($0) } ?? "?" }

    static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
}
