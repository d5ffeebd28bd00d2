import DiffusionProtocol
import StrictJSON

/// Param schemas of the methods the daemon answers itself (no job, immediate response).
enum BuiltinMethods {
    static let noParams: JSONValue = ["type": "object", "properties": [:], "additionalProperties": false]

    static let cancelParams: JSONValue = [
        "type": "object",
        "properties": ["id": ["type": ["integer", "string"], "description": "the id of the request to cancel"]],
        "required": ["id"],
        "additionalProperties": false,
    ]

    static let schemas: [String: JSONValue] = [
        "capabilities": noParams, "ping": noParams, "status": noParams, "shutdown": noParams, "cancel": cancelParams,
    ]

    static var capabilitiesJSON: JSONValue {
        .array(schemas.keys.sorted().map { name in ["method": .string(name), "params_schema": schemas[name] ?? noParams] })
    }

    /// The params schema as protocol/schema/ publishes it: a method without params says so in a description
    /// (kept out of `capabilities`, whose schemas are what requests are validated with).
    static func documented(_ method: String, _ schema: JSONValue) -> JSONValue {
        guard schema == noParams, case .object(var o) = schema else { return schema }
        o["description"] = .string("\(method) takes no params (omit params or send {})")
        return .object(o)
    }
}
