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
}
