import StrictJSON
import DiffusionProtocol

/// The `error` member of every error response (protocol/schema/error.json).
enum ErrorObjectSchema {
    static let schema: JSONValue = [
        "type": "object",
        "additionalProperties": false,
        "required": ["code", "message"],
        "properties": [
            "code": ["type": "integer"],
            "message": ["type": "string", "minLength": 1],
            "data": [
                "description": "for -32602 always {field, reason}; otherwise detail such as path, limit, kind",
            ],
        ],
    ]
}
