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
        /// The part between prefix and pid is a file name of its own (`.NAME.PID.N.tmp` for any NAME).
        public let anyName: Bool

        public init(prefix: String, suffix: String, anyName: Bool = false) {
            self.prefix = prefix
            self.suffix = suffix
            self.anyName = anyName
        }

        public static let strips = Pattern(prefix: ".diffusiond-strips.", suffix: ".raw")
        public static let spool = Pattern(prefix: ".diffusiond-spool.", suffix: ".tif")
        /// The atomic writer's temporary for the output file named `base`.
        public static func atomicWrite(of base: String) -> Pattern { Pattern(prefix: ".\(base).", suffix: ".tmp") }
        /// The atomic writer's temporary for any output in the folder.
        public static let anyAtomicWrite = Pattern(prefix: ".", suffix: ".tmp", anyName: true)

        /// The writer's process id when `name` has this pattern's shape.
        func processID(of name: String) -> pid_t? {
            guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count else { return nil }
            let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
            var parts = middle.split(separator: ".", omittingEmptySubsequences: false)
            if anyName {
                // NAME may hold dots itself; it must not be empty, and the last two parts are the pid and counter.
                guard parts.count >= 3, !parts[0].isEmpty else { return nil }
                parts = Array(parts.suffix(2))
            }
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                  let pid = pid_t(parts[0]), pid > 0 else { return nil }
            return pid
        }
    }

    /// The streaming pipeline's temporaries (strip files and spools): any write into a folder sweeps them, so a
    /// killed stream's hundreds of MB go at the next write of any kind there, a plain resize included.
    public static let streaming: [Pattern] = [.strips, .spool]

    /// What any write into a folder sweeps: every output's atomic temporaries and the streaming ones, as the
    /// protocol promises ("removed the next time it writes to that folder").
    public static let everyKind: [Pattern] = [.anyAtomicWrite] + streaming

    /// Every pattern of `patterns`; returns how many files were removed.
    @discardableResult
    public static func sweep(directory: String, patterns: [Pattern]) -> Int {
        patterns.reduce(0) { $0 + sweep(directory: directory, pattern: $1) }
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
            let name = entryName(entry)
            guard let pid = pattern.processID(of: name), !isRunning(pid) else { continue }
            let path = "\(directory)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == me else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// The entry's name, read in place: glibc sizes each entry to its name (d_reclen), so copying the whole
    /// 256-byte `d_name` tuple read past the end of the last entry's buffer (AddressSanitizer found it).
    static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!  // a stored field of a C struct: always known
        return String(cString: (UnsafeRawPointer(entry) + offset).assumingMemoryBound(to: CChar.self))
    }

    /// False only when the system says no such process exists (EPERM means it exists under another user).
    static func isRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }
}
