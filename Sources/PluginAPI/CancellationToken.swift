import Foundation

/// A flag set by the daemon (cancel request, client disconnect, shutdown deadline) and polled by plugins.
public final class CancellationToken: @unchecked Sendable {
    private let lock = NSLock()
    private var reason: String?

    public init() {}

    /// First reason wins: it is the one reported to the client.
    public func cancel(reason: String) {
        lock.lock(); defer { lock.unlock() }
        if self.reason == nil { self.reason = reason }
    }

    public var cancellationReason: String? {
        lock.lock(); defer { lock.unlock() }
        return reason
    }

    public var isCancelled: Bool { cancellationReason != nil }
}
