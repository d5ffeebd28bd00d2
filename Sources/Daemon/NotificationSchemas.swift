import StrictJSON
import DiffusionProtocol

/// Schemas of the notifications a job sends (protocol/schema/notification.<method>.json).
enum NotificationSchemas {
    static let queued: JSONValue = [
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "position"],
        "properties": [
            "id": ["type": ["integer", "string"]],
            "position": ["type": "integer", "minimum": 1, "description": "1 = runs next"],
        ],
    ]

    static let started: JSONValue = [
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "method"],
        "properties": ["id": ["type": ["integer", "string"]], "method": ["type": "string"]],
    ]

    /// What a progress report says; `status` shows the running job's latest report with the same members.
    static let progressMembers: [String: JSONValue] = [
        "stage": ["type": "string"],
        "step": ["type": "integer", "minimum": 0],
        "steps": ["type": "integer", "minimum": 0],
        "tile": ["type": "integer", "minimum": 0],
        "tiles": ["type": "integer", "minimum": 0],
        "elapsed_ms": ["type": "integer", "minimum": 0],
        "remaining_ms": ["type": "integer", "minimum": 0],
    ]

    static var progress: JSONValue {
        var properties = progressMembers
        properties["id"] = ["type": ["integer", "string"]]
        return ["type": "object", "additionalProperties": false, "required": ["id", "stage", "elapsed_ms"],
                "properties": .object(properties)]
    }
}
