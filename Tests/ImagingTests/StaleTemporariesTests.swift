import Foundation
import Glibc
import XCTest
@testable import Imaging

/// Temporaries of a killed daemon are swept when the folder is written to again; nothing else is touched.
final class StaleTemporariesTests: XCTestCase {
    /// A process id that certainly existed and has exited (a child we waited for).
    func deadProcessID() throws -> pid_t {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let pid = child.processIdentifier
        XCTAssertFalse(StaleTemporaries.isRunning(pid), "the exited child \(pid) must be gone")
        return pid
    }

    func touch(_ path: String, bytes: Int = 16) {
        FileManager.default.createFile(atPath: path, contents: Data(count: bytes))
    }

    func testWritingAnImageSweepsTheDeadWritersTemporariesOnly() throws {
        let dir = try TempDir()
        let dead = try deadProcessID(), alive = getpid()
        let stale = [".out.png.\(dead).123.tmp", ".diffusiond-strips.\(dead).77.raw", ".diffusiond-spool.\(dead).5.tif"]
        let kept = [
            ".out.png.\(alive).9.tmp",                  // a live writer (this process)
            ".other.png.\(dead).1.tmp",                 // another output's temporary: not this write's business
            ".out.png.\(dead).x1.tmp",                  // not our shape
            ".out.png.\(dead).tmp",                     // not our shape
            "out.png.\(dead).1.tmp",                    // not hidden: not ours
            "photo.png",                                // user files
        ]
        for name in stale + kept { touch(dir.file(name)) }
        try FileManager.default.createDirectory(atPath: dir.file(".diffusiond-strips.\(dead).8.raw"), withIntermediateDirectories: false)

        try Pictures.rgb8(width: 8, height: 8).write(to: dir.file("out.png"), overwrite: false)
        let afterWrite = kept + ["out.png", ".diffusiond-strips.\(dead).77.raw", ".diffusiond-spool.\(dead).5.tif",
                                 ".diffusiond-strips.\(dead).8.raw"]
        XCTAssertEqual(Set(dir.entries), Set(afterWrite),
                       "the atomic write sweeps its own output's dead temporaries and nothing else; a folder is never removed")

        let sink = try StripFileSink(directory: dir.path, width: 4, height: 4, bands: 3, format: .uchar)
        XCTAssertFalse(dir.entries.contains(".diffusiond-strips.\(dead).77.raw"), "a new strip file sweeps dead ones")
        XCTAssertTrue(dir.entries.contains(".diffusiond-strips.\(dead).8.raw"), "only regular files are removed")
        XCTAssertTrue(dir.entries.contains(".diffusiond-spool.\(dead).5.tif"), "each kind is swept by its own writer")
        XCTAssertEqual(StaleTemporaries.sweep(directory: dir.path, pattern: .spool), 1)
        withExtendedLifetime(sink) {}
        for name in kept { XCTAssertTrue(dir.entries.contains(name), name) }
    }

    func testUnreadableFolderSweepsNothing() {
        XCTAssertEqual(StaleTemporaries.sweep(directory: "/nonexistent-\(UUID().uuidString)", pattern: .strips), 0)
    }
}
