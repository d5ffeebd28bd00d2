import StrictJSON

/// Builders for everything the daemon writes: responses, errors and notifications.
public enum RPCMessage {
    public static func result(id: RequestID, _ result: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "result": result]
    }

    /// `id` is nil when the request could not be read (parse errors): JSON-RPC then requires `"id": null`.
    public static func error(id: RequestID?, _ error: RPCError) -> JSONValue {
        ["jsonrpc": "2.0", "id": id?.json ?? .null, "error": error.json]
    }

    public static func notification(_ method: String, _ params: [String: JSONValue]) -> JSONValue {
        ["jsonrpc": "2.0", "method": .string(method), "params": .object(params)]
    }
}

/// Names of the notifications a job emits, in order: queued, started, progress*, then one response.
public enum NotificationName {
    public static let queued = "queued"
    public static let started = "started"
    public static let progress = "progress"
}
