import DiffusionProtocol
import Foundation
import StrictJSON

extension LineSocketClient {
    /// Reads messages until the response with `id` arrives; returns it and the notifications seen for that id.
    func collect(id: RequestID, timeout: Double) throws -> (response: JSONValue, notifications: [JSONValue]) {
        let deadline = Date().addingTimeInterval(timeout)
        var notes: [JSONValue] = []
        while true {
            guard let m = try readMessage(timeout: max(0.001, deadline.timeIntervalSinceNow)) else { throw LineSocketClient.ClientError.closed }
            if m["id"] == id.json { return (m, notes) }
            if m["method"] != nil, m["params"]?["id"] == id.json { notes.append(m) }
        }
    }

    /// Reads until a notification `name` for `id` arrives (bounded).
    func waitFor(notification name: String, id: RequestID, timeout: Double) throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let m = try readMessage(timeout: max(0.001, deadline.timeIntervalSinceNow)) else { throw LineSocketClient.ClientError.closed }
            if m["method"] == .string(name), m["params"]?["id"] == id.json { return m }
        }
    }

    func request(_ id: Int64, _ method: String, _ params: [String: JSONValue] = [:]) throws {
        try send(RPCRequest(id: .integer(id), method: method, params: params).json)
    }
}

extension JSONValue {
    var errorCode: Int? { self["error"]?["code"]?.intValue }
}

/// A job that runs until cancelled (about a minute of hashing), for queue and cancellation tests.
let longChecksum: [String: JSONValue] = ["text": .string(String(repeating: "x", count: 64)), "rounds": 1_000_000_000]
