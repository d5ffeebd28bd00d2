import Glibc

/// Temporary files a daemon killed outright (SIGKILL, power loss) left in an output folder: the atomic
/// writer's `.<name>.<pid>.<random>.tmp`, and the streaming pipeline's `.diffusiond-strips.<pid>.<random>.raw`
/// and `.diffusiond-spool.<pid>.<random>.tif`, which can be hundreds of MB. Swept from a folder whenever we
/// are about to write one there. A file is removed only when its name has exactly this shape, it is a regular
/// file owned by our user, and the process id in its name no longer exists, so a live writer's files (ours or
/// another daemon's) are never touched.
public enum StaleTemporaries {
    /// One kind of temporary file name: `prefix` + pid + "." + digits + `suffix`.
    public struct Pattern: Sendable {
        public let prefix: String
        public let suffix: String

        public init(prefix: String, suffix: String) {
            self.prefix = prefix
            self.suffix = suffix
        }

        public static let strips = Pattern(prefix: ".diffusiond-strips.", suffix: ".raw")
        public static let spool = Pattern(prefix: ".diffusiond-spool.", suffix: ".tif")
        /// The atomic writer's temporary for the output file named `base`.
        public static func atomicWrite(of base: String) -> Pattern { Pattern(prefix: ".\(base).", suffix: ".tmp") }

        /// The writer's process id when `name` has this pattern's shape.
        func processID(of name: String) -> pid_t? {
            guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
            let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
            let parts = middle.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let pid = pid_t(parts[0]), pid > 0 else { return nil }
            return pid
        }
    }

    /// Removes the stale temporaries of `pattern` in `directory`; returns how many. Never throws: a sweep
    /// that cannot read the folder simply removes nothing.
    @discardableResult
    public static func sweep(directory: String, pattern: Pattern) -> Int {
        guard let dir = opendir(directory) else { return 0 }
        defer { closedir(dir) }
        var removed = 0
        let me = getuid()
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = pattern.processID(of: name), !isRunning(pid) else { continue }
            let path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == me else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// False only when the system says no such process exists (EPERM means it exists under another user).
    static func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }
}
