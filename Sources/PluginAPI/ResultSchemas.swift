import StrictJSON
import DiffusionProtocol

/// Reusable result-schema fragments, so every operation describes what `JobContext.deliver` and the daemon
/// add to its result the same way (the sources of protocol/schema/<method>.result.json).
public enum ResultSchemas {
    /// The members of `JobContext.deliver`'s object; `extra` adds (required) members such as a seed.
    static func imageMembers(extra: [String: JSONValue]) -> (properties: [String: JSONValue], required: [JSONValue]) {
        var properties: [String: JSONValue] = [
            "path": ["type": "string"],
            "base64": ["type": "string"],
            "format": ["type": "string", "enum": .array(ImageSchemas.inlineFormats)],
            "width": ["type": "integer", "minimum": 1],
            "height": ["type": "integer", "minimum": 1],
            "bands": ["type": "integer", "minimum": 1],
            "bit_depth": ["type": "integer", "enum": [8, 16, 32]],
        ]
        var required: [JSONValue] = ["format", "width", "height", "bands", "bit_depth"]
        for key in extra.keys.sorted() {
            properties[key] = extra[key]
            required.append(.string(key))
        }
        return (properties, required)
    }

    /// An output image: a file (`path`) or inline (`base64`), exactly one of them.
    public static func image(description: String, extra: [String: JSONValue] = [:]) -> JSONValue {
        let members = imageMembers(extra: extra)
        return [
            "type": "object", "additionalProperties": false, "description": .string(description),
            "required": .array(members.required), "properties": .object(members.properties),
            "oneOf": [
                ["description": "written to a file", "required": ["path"]],
                ["description": "inline", "required": ["base64"]],
            ],
        ]
    }

    /// `image` without the exactly-one-of-path-or-base64 rule (resize publishes it so).
    public static func looseImage(description: String) -> JSONValue {
        let members = imageMembers(extra: [:])
        return ["type": "object", "additionalProperties": false, "description": .string(description),
                "required": .array(members.required), "properties": .object(members.properties)]
    }

    /// The output-image description most operations use.
    public static let outputImageDescription = "the output: path (file written) or base64 (inline)"

    /// `timings` as the daemon adds it to a result that has none (see protocol/README.md, Jobs).
    public static func daemonTimings(description: String? = "added by the daemon: time queued and running, in ms") -> JSONValue {
        var schema: [String: JSONValue] = [
            "type": "object", "additionalProperties": false, "required": ["queue_ms", "run_ms"],
            "properties": ["queue_ms": ["type": "integer", "minimum": 0], "run_ms": ["type": "integer", "minimum": 0]],
        ]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// `{"width", "height"}` of an input image; `minimum` is 1 for decoded images.
    public static func size(minimum: Int, description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = [
            "type": "object", "additionalProperties": false, "required": ["width", "height"],
            "properties": ["width": ["type": "integer", "minimum": JSONValue(minimum)],
                           "height": ["type": "integer", "minimum": JSONValue(minimum)]],
        ]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    /// A closed result object (no members beyond `properties`) with the `required` ones.
    public static func object(_ properties: [String: JSONValue], required: [String], description: String? = nil) -> JSONValue {
        var schema: [String: JSONValue] = ["type": "object", "additionalProperties": false,
                                           "required": .array(required.map { .string($0) }), "properties": .object(properties)]
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }
}
