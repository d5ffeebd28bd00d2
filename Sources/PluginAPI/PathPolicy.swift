import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which files the daemon may read and write on a client's behalf.
///
/// The socket is usable only by the daemon's own user, so by default a client may name any absolute path
/// that user can access (the daemon acts with the client's own rights). With `allowedRoots` set
/// (`--allow-dir`, repeatable) every input and output must lie under one of them after resolving symlinks.
/// Independently of roots:
/// - paths must be absolute (a relative path would resolve against the daemon's cwd, not the client's);
/// - inputs are opened with O_NONBLOCK (a FIFO cannot hang the worker) and must be regular files by fstat
///   of the opened descriptor (no TOCTOU between check and read), at most `maxInputBytes` long;
/// - outputs are never written through a symlink, never replace a non-regular file, and replace an existing
///   file only with `"overwrite": true`; the containing folder must exist.
public struct PathPolicy: Sendable {
    public var allowedRoots: [String]
    public var maxInputBytes: Int

    public init(allowedRoots: [String] = [], maxInputBytes: Int = 512 << 20) {
        self.allowedRoots = allowedRoots.map { PathPolicy.resolve($0) ?? $0 }
        self.maxInputBytes = maxInputBytes
    }

    static func resolve(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }

    func checkRoots(_ resolved: String, field: String, original: String) throws {
        guard !allowedRoots.isEmpty else { return }
        for root in allowedRoots where resolved == root || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/") { return }
        throw PluginError.pathNotAllowed(field: field, path: original,
            reason: "it is outside the folders the daemon was started with (--allow-dir \(allowedRoots.joined(separator: ", ")))")
    }

    static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFSOCK: return "socket"
        case S_IFLNK: return "symbolic link"
        default: return "special file"
        }
    }

    /// Reads a whole input file under the rules above.
    public func readInput(path: String, field: String) throws -> [UInt8] {
        try withInput(path: path, field: field) { fd, size in
            var bytes = [UInt8](repeating: 0, count: size)
            var done = 0
            while done < size {
                let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw PluginError.unreadable(field: field, path: path, detail: String(cString: strerror(errno)))
                }
                if n == 0 { break }  // file shrank while reading: use what is there
                done += n
            }
            if done < size { bytes.removeLast(size - done) }
            return bytes
        }
    }

    /// Opens an input file under the rules above and hands `body` the checked descriptor and the file's size
    /// (closed when `body` returns): for readers that need only part of it, such as an image header.
    public func withInput<R>(path: String, field: String, _ body: (Int32, Int) throws -> R) throws -> R {
        guard path.hasPrefix("/") else {
            throw PluginError.pathNotAllowed(field: field, path: path, reason: "paths must be absolute")
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        if fd < 0 {
            let err = errno
            if err == ENOENT || err == ENOTDIR { throw PluginError.fileNotFound(field: field, path: path) }
            throw PluginError.unreadable(field: field, path: path, detail: String(cString: strerror(err)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw PluginError.unreadable(field: field, path: path, detail: String(cString: strerror(errno)))
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw PluginError.notARegularFile(field: field, path: path, kind: PathPolicy.kind(of: st.st_mode))
        }
        if !allowedRoots.isEmpty {
            // Resolve through /proc so the checked path is the file actually opened.
            let resolved = PathPolicy.resolve("/proc/self/fd/\(fd)") ?? PathPolicy.resolve(path) ?? path
            try checkRoots(resolved, field: field, original: path)
        }
        let size = Int(st.st_size)
        guard size <= maxInputBytes else {
            throw PluginError.fileTooLarge(field: field, path: path, bytes: size, limit: maxInputBytes)
        }
        return try body(fd, size)
    }

    /// Checks an output path before any work is done, so a job does not run for minutes and then fail.
    public func checkOutput(path: String, overwrite: Bool, field: String) throws {
        guard path.hasPrefix("/") else {
            throw PluginError.pathNotAllowed(field: field, path: path, reason: "paths must be absolute")
        }
        guard !path.hasSuffix("/") else {
            throw PluginError.pathNotAllowed(field: field, path: path, reason: "it names a folder; give a file name with an image extension")
        }
        let parent = (path as NSString).deletingLastPathComponent
        var pst = stat()
        guard stat(parent, &pst) == 0 else { throw PluginError.writeFailed(field: field, path: path, detail: "the folder \(parent) does not exist") }
        guard pst.st_mode & S_IFMT == S_IFDIR else {
            throw PluginError.writeFailed(field: field, path: path, detail: "\(parent) is not a folder")
        }
        // A read-only folder (or mount) fails now, not after a job of minutes; access(2) reports a read-only
        // mount (EROFS) even to root.
        if access(parent, W_OK | X_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw PluginError.writeFailed(field: field, path: path, detail: "the folder \(parent) is not writable (\(reason))")
        }
        if !allowedRoots.isEmpty {
            try checkRoots(PathPolicy.resolve(parent) ?? parent, field: field, original: path)
        }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFREG else {
                throw PluginError.pathNotAllowed(field: field, path: path,
                    reason: "a \(PathPolicy.kind(of: st.st_mode)) is there and will not be replaced")
            }
            guard overwrite else { throw PluginError.outputExists(field: field, path: path) }
        }
    }
}
