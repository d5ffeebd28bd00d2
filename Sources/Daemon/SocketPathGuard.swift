import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Owns the socket path for the daemon's lifetime: an exclusive lock next to it (so two daemons starting
/// at once cannot both win), the stale-socket check, the permission-safe bind and the final cleanup.
///
/// Rules: a live daemon at the path (connect succeeds, or it holds the lock) makes the new one refuse to
/// start; a socket nobody listens on (connect gets ECONNREFUSED: its daemon was killed) is removed and
/// replaced; anything that is not a socket is never deleted.
final class SocketPathGuard: @unchecked Sendable {
    let path: String
    let lockPath: String
    private var lockFD: Int32 = -1
    private var savedUmask: mode_t = 0
    private var boundInode: ino_t?

    static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    init(path: String) {
        self.path = path
        self.lockPath = path + ".lock"
    }

    func acquire() throws {
        guard path.utf8.count <= Self.maxPathBytes else {
            throw DaemonError.socketPathTooLong(path: path, limit: Self.maxPathBytes)
        }
        let parent = (path as NSString).deletingLastPathComponent
        try ensureDirectory(parent.isEmpty ? "." : parent)

        lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if lockFD < 0 { throw sysError("open", lockPath) }
        if flock(lockFD, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            close(lockFD); lockFD = -1
            if e == EWOULDBLOCK { throw DaemonError.anotherInstanceRunning(socket: path) }
            throw DaemonError.systemCall(name: "flock", path: lockPath, errno: e, detail: String(cString: strerror(e)))
        }

        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                releaseLock()
                throw DaemonError.socketPathOccupied(path: path, kind: Self.kindName(st.st_mode))
            }
            switch Self.probe(path) {
            case .live:
                releaseLock()
                throw DaemonError.anotherInstanceRunning(socket: path)
            case .stale:
                if unlink(path) != 0 && errno != ENOENT { let e = sysError("unlink", path); releaseLock(); throw e }
            case .error(let e):
                releaseLock()
                throw DaemonError.systemCall(name: "connect", path: path, errno: e, detail: String(cString: strerror(e)))
            }
        } else if errno != ENOENT {
            let e = sysError("lstat", path); releaseLock(); throw e
        }
        // The socket inherits this mode at bind(): 0600 from the first instant a client could connect.
        savedUmask = umask(0o077)
    }

    /// Called right after bind: restores the umask (outputs get the user's normal mode) and records which
    /// socket is ours, so cleanup never removes a socket some later daemon created.
    func didBind() {
        umask(savedUmask)
        chmod(path, 0o600)
        var st = stat()
        if lstat(path, &st) == 0 { boundInode = st.st_ino }
    }

    func bindFailed() {
        umask(savedUmask)
        releaseLock()
    }

    func removeSocket() {
        var st = stat()
        if let boundInode, lstat(path, &st) == 0, st.st_ino == boundInode, st.st_mode & S_IFMT == S_IFSOCK {
            unlink(path)
        }
        self.boundInode = nil
    }

    /// The lock file stays on disk: deleting it would let two starting daemons lock different inodes.
    func releaseLock() {
        if lockFD >= 0 { close(lockFD); lockFD = -1 }
    }

    private func ensureDirectory(_ dir: String) throws {
        var st = stat()
        if stat(dir, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR else {
                throw DaemonError.socketDirectoryUnsafe(path: dir, reason: "it is not a directory")
            }
            guard st.st_uid == geteuid() || st.st_mode & S_ISVTX != 0 else {
                throw DaemonError.socketDirectoryUnsafe(path: dir, reason: "it belongs to another user and is not sticky")
            }
            return
        }
        // Create missing folders private to the user.
        let parent = (dir as NSString).deletingLastPathComponent
        if !parent.isEmpty, parent != dir { try ensureDirectory(parent) }
        if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw sysError("mkdir", dir) }
    }

    enum ProbeResult { case live, stale, error(Int32) }

    /// Connects to an existing socket file to learn whether a daemon is behind it.
    static func probe(_ path: String) -> ProbeResult {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if fd < 0 { return .error(errno) }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc == 0 { return .live }
        let e = errno
        if e == ECONNREFUSED || e == ENOENT { return .stale }
        if e == EAGAIN { return .live }  // listening but its backlog is full: certainly alive
        return .error(e)
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "regular file"
        case S_IFDIR: return "directory"
        case S_IFLNK: return "symbolic link"
        case S_IFIFO: return "FIFO"
        default: return "special file"
        }
    }

    private func sysError(_ name: String, _ path: String) -> DaemonError {
        let e = errno
        return .systemCall(name: name, path: path, errno: e, detail: String(cString: strerror(e)))
    }
}
