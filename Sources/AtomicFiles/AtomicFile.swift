#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CRenameNoReplace

/// The one way files are written atomically (images, converted checkpoints, saved client output).
///
/// Guarantee: readers of `path` see either the previous state (nothing, or the old file) or the complete new
/// file, never a partial one, and once `write` returns the new file survives a crash or power loss. How: the
/// contents go to a temporary `.NAME.PID.N.tmp` in the destination's own folder (the same filesystem, so the
/// rename is atomic; the shape `StaleTemporaries` sweeps after a killed process), which is fsynced, renamed over
/// `path` (without `overwrite`, with RENAME_NOREPLACE, so a file created meanwhile is not clobbered either), and
/// then the folder is fsynced so the new directory entry is durable too. On any failure the temporary is
/// removed and `path` is untouched. A failing folder fsync is not reported: the file is complete and in place.
public enum AtomicFile {
    /// Where the contents go: the temporary file's descriptor, open for writing.
    public struct Output {
        public let descriptor: Int32
        let path: String

        /// Writes all of `bytes`, retrying short writes and EINTR.
        public func write(_ bytes: UnsafeRawBufferPointer) throws(AtomicFileError) {
            guard let base = bytes.baseAddress else { return }
            var done = 0
            while done < bytes.count {
                let n = systemWrite(descriptor, base + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFileError(path: path, step: .write, code: errno)
                }
                done += n
            }
        }

        public func write(_ bytes: [UInt8]) throws(AtomicFileError) {
            // withUnsafeBytes only rethrows untyped errors, so the typed one is carried out by hand.
            var failure: AtomicFileError?
            bytes.withUnsafeBytes { raw in
                do throws(AtomicFileError) { try write(raw) } catch { failure = error }
            }
            if let failure { throw failure }
        }
    }

    /// The temporary's name for `base` (the destination's last path component) in this process.
    public static func temporaryName(for base: String) -> String {
        ".\(base).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
    }

    /// Writes `path` atomically with what `contents` writes to the output. `permissions` are the new file's
    /// mode before the umask. Errors of `contents` propagate unchanged; the helper's own are `AtomicFileError`.
    public static func write(to path: String, overwrite: Bool = true, permissions: mode_t = 0o666,
                             _ contents: (Output) throws -> Void) throws {
        let (directory, base) = split(path)
        let temporary = "\(directory)/\(temporaryName(for: base))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, permissions)
        guard fd >= 0 else { throw AtomicFileError(path: path, step: .create, code: errno) }
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            defer { close(fd) }
            try contents(Output(descriptor: fd, path: path))
            guard fsync(fd) == 0 else { throw AtomicFileError(path: path, step: .sync, code: errno) }
        }
        let status = overwrite ? rename(temporary, path) : rename_noreplace(temporary, path)
        guard status == 0 else { throw AtomicFileError(path: path, step: .rename, code: errno) }
        renamed = true
        let folder = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String, overwrite: Bool = true, permissions: mode_t = 0o666) throws {
        try write(to: path, overwrite: overwrite, permissions: permissions) { try $0.write(bytes) }
    }

    /// The destination's folder ("." for a bare name) and last component.
    public static func split(_ path: String) -> (directory: String, base: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

/// The libc write(2), reachable from inside a type that has its own `write` method.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
