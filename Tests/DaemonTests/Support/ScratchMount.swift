import Foundation
import XCTest

/// A small tmpfs mounted on a private folder, for a disk that fills up or a read-only folder. Needs root (CI
/// runs as root); anywhere mounting is not permitted the test is skipped with a message saying so. Unmounted
/// and removed at the end.
final class ScratchMount {
    private let dir: TempDir
    let path: String

    init(bytes: Int, readOnly: Bool = false) throws {
        try XCTSkipUnless(geteuid() == 0, "mounting a tmpfs needs root")
        dir = try TempDir()
        path = dir.file("mnt")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        let options = "size=\(bytes),mode=0755" + (readOnly ? ",ro" : "")
        let status = try Self.run("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", path])
        try XCTSkipUnless(status == 0, "mount -t tmpfs is not permitted here (exit \(status))")
    }

    /// The folder's entries, hidden ones included (temporaries are hidden).
    var entries: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }

    func file(_ name: String) -> String { path + "/" + name }

    private static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { _ = try? Self.run("/bin/umount", ["-l", path]) }
}
