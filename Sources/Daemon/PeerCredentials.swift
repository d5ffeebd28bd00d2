import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Defence in depth behind the socket's 0600 mode: a connection whose peer (SO_PEERCRED) is neither the
/// daemon's user nor root is closed before a single byte is read, so a mis-set mode or an inherited
/// descriptor cannot hand the daemon to another user.
enum PeerCredentials {
    struct NotOwner: Error, CustomStringConvertible {
        var uid: uid_t
        var description: String { "connection from uid \(uid) refused: only the daemon's user may connect" }
    }

    /// `struct ucred` (pid, uid, gid); Glibc only exports it to Swift under _GNU_SOURCE, so mirror its layout.
    struct Ucred: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    /// Logs every peer (uid, pid) and closes a refused connection at once: a failed child initializer alone
    /// leaves the accepted descriptor open, so each refusal would leak one.
    static func check(_ channel: Channel, logger: Logger) -> EventLoopFuture<Void> {
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededVoidFuture() }
        let future: EventLoopFuture<Ucred> = provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET),
                                                                            name: SocketOptionName(SO_PEERCRED))
        return future.flatMapErrorThrowing { error in
            channel.close(promise: nil)
            logger.warning("connection refused: peer credentials unreadable", metadata: ["error": "\(error)"])
            throw error
        }.flatMapThrowing { credentials in
            let who: Logger.Metadata = ["uid": "\(credentials.uid)", "pid": "\(credentials.pid)"]
            guard credentials.uid == geteuid() || credentials.uid == 0 else {
                logger.warning("connection refused: another user", metadata: who)
                channel.close(promise: nil)
                throw NotOwner(uid: credentials.uid)
            }
            logger.info("connection accepted", metadata: who)
        }
    }
}
