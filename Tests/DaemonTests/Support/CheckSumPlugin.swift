import Foundation

/// Builds the example C plugin once per test run into a temp folder, the way a user would.
enum ChecksumPlugin {
    nonisolated(unsafe) private static var built: String?
    private static let lock = NSLock()

    /// The folder holding checksum.so (pass it as --plugins).
    static func directory() throws -> String {
        lock.lock(); defer { lock.unlock() }
        if let built { return built }
        var template = Array("/tmp/dmt-plugins.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        let dir = String(cString: made)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-I", TestPaths.pluginHeaderDir,
                             "-o", dir + "/checksum.so", TestPaths.checksumSource]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("cc failed building the checksum plugin") }
        built = dir
        return dir
    }

    /// The expected result, computed independently of the C code.
    static func fnv1a64(_ text: String, rounds: Int) -> String {
        var hash: UInt64 = 0xcbf29ce484222325
        let bytes = Array(text.utf8)
        for _ in 0..<rounds {
            for b in bytes {
                hash ^= UInt64(b)
                hash = hash &* 0x100000001b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
