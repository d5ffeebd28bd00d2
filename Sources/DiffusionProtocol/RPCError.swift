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
        RPCError(code: RPCErrorCode.invalidParams,
                 message: "invalid params: \(field.isEmpty ? "params" : field) \(reason)",
                 data: ["field": .string(field), "reason": .string(reason)])
    }

    public static func cancelled(_ why: String = "request cancelled") -> RPCError {
        RPCError(code: RPCErrorCode.cancelled, message: why)
    }
}
