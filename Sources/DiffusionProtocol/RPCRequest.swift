import StrictJSON

/// A validated JSON-RPC 2.0 request.
public struct RPCRequest: Sendable, Equatable {
    public var id: RequestID
    public var method: String
    /// Always an object (absent params are presented as `{}`); by-position params are refused.
    public var params: [String: JSONValue]

    public init(id: RequestID, method: String, params: [String: JSONValue] = [:]) {
        self.id = id
        self.method = method
        self.params = params
    }

    private static let allowedKeys: Set<String> = ["jsonrpc", "id", "method", "params"]

    /// Checks the envelope. On failure returns the error together with the id if one could be read,
    /// so that the reply can still be correlated.
    public static func from(_ json: JSONValue) -> Result<RPCRequest, RequestEnvelopeError> {
        guard case .object(let o) = json else {
            return .failure(.init(id: nil, error: RPCError(code: RPCErrorCode.invalidRequest,
                message: "invalid request: send one JSON object per line (batches are not supported)")))
        }
        let id = o["id"].flatMap(RequestID.init(json:))
        func fail(_ message: String, field: String? = nil) -> Result<RPCRequest, RequestEnvelopeError> {
            let data: JSONValue? = field.map { ["field": .string($0)] }
            return .failure(.init(id: id, error: RPCError(code: RPCErrorCode.invalidRequest, message: "invalid request: " + message, data: data)))
        }
        guard o["jsonrpc"] == .string("2.0") else { return fail("\"jsonrpc\" must be \"2.0\"", field: "jsonrpc") }
        for key in o.keys.sorted() where !allowedKeys.contains(key) {
            return fail("unknown member \"\(key)\"; a request has only jsonrpc, id, method and params", field: key)
        }
        guard let rawID = o["id"] else {
            return fail("\"id\" is missing; every request needs an integer or string id (notifications are not accepted)", field: "id")
        }
        guard let requestID = id else {
            return fail("\"id\" must be an integer or a string, not \(rawID.typeName)", field: "id")
        }
        guard case .string(let method)? = o["method"], !method.isEmpty else {
            return fail("\"method\" must be a non-empty string", field: "method")
        }
        var params: [String: JSONValue] = [:]
        switch o["params"] {
        case nil, .null?: break
        case .object(let p)?: params = p
        case let other?:
            return .failure(.init(id: requestID, error: RPCError(code: RPCErrorCode.invalidParams,
                message: "invalid params: params must be an object with named members, not \(other.typeName)",
                data: ["field": "params", "reason": .string("must be an object, not \(other.typeName)")])))
        }
        return .success(RPCRequest(id: requestID, method: method, params: params))
    }

    public var json: JSONValue {
        ["jsonrpc": "2.0", "id": id.json, "method": .string(method), "params": .object(params)]
    }
}

public struct RequestEnvelopeError: Error, Sendable {
    public var id: RequestID?
    public var error: RPCError
}
