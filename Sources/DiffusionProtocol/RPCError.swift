import StrictJSON

/// A JSON-RPC error object. `message` tells a person what to do; `data` carries machine-readable detail
/// (for -32602 always `{"field": ..., "reason": ...}`).
public struct RPCError: Error, Sendable, Equatable {
    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var json: JSONValue {
        var o: [String: JSONValue] = ["code": JSONValue(code), "message": .string(message)]
        if let data { o["data"] = data }
        return .object(o)
    }

    public static func invalidParams(field: String, reason: String) -> RPCError {
        // Reasons are either predicates ("is required") that read after the field's name, or whole
        // sentences from deeper layers that already start with it ("model \"x\" not found"): no stutter.
        let subject = field.isEmpty ? "params" : field
        let name = subject.split(separator: ".").last.map(String.init) ?? subject
        let sentence = reason.hasPrefix(name + " ") ? reason : "\(subject) \(reason)"
        return RPCError(code: RPCErrorCode.invalidParams,
                 message: "invalid params: \(sentence)",
                 data: ["field": .string(field), "reason": .string(reason)])
    }

    public static func cancelled(_ why: String = "request cancelled") -> RPCError {
        RPCError(code: RPCErrorCode.cancelled, message: why)
    }
}
