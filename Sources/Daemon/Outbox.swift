import DiffusionProtocol

/// The ordered stream of lines going to one client. Everything that talks to a client (request handling,
/// the worker's notifications and results) goes through here so messages never interleave mid-line and a
/// job's notifications always precede its response.
final class Outbox: Sendable {
    let connectionID: Int
    private let continuation: AsyncStream<JSONValue>.Continuation

    init(connectionID: Int, continuation: AsyncStream<JSONValue>.Continuation) {
        self.connectionID = connectionID
        self.continuation = continuation
    }

    func send(_ message: JSONValue) { continuation.yield(message) }

    /// No more messages: the writer flushes what is queued and half-closes the connection.
    func finish() { continuation.finish() }
}
