import DiffusionProtocol
import StrictJSON

/// The ordered stream of lines going to one client. Everything that talks to a client (request handling,
/// the worker's notifications and results) goes through here so messages never interleave mid-line and a
/// job's notifications always precede its response.
final class Outbox: Sendable {
    let connectionID: Int
    private let continuation: AsyncStream<JSONValue>.Continuation
    private let unwritten = Locked(0)

    /// A client that sends requests without reading the answers stops being read once this many messages
    /// wait for it, so its answers cannot pile up in the daemon without bound.
    static let maxBacklog = 256

    init(connectionID: Int, continuation: AsyncStream<JSONValue>.Continuation) {
        self.connectionID = connectionID
        self.continuation = continuation
    }

    func send(_ message: JSONValue) {
        unwritten.withLock { $0 += 1 }
        if case .terminated = continuation.yield(message) { unwritten.withLock { $0 -= 1 } }
    }

    /// Called by the writer for each message written to the socket (or dropped because the client left).
    func didWrite() { unwritten.withLock { $0 -= 1 } }

    var backlog: Int { unwritten.withLock { $0 } }

    /// No more messages: the writer flushes what is queued and half-closes the connection.
    func finish() { continuation.finish() }
}
