import Foundation
import Glibc
import XCTest
@testable import Imaging

/// Temporaries of a killed daemon are swept when the folder is written to again, by a write of any kind;
/// nothing else is touched.
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
        let stale2 = [".other.png.\(dead).1.tmp", ".my.photo.v2.jpg.\(dead).4.tmp"]  // other outputs' temporaries
        let kept = [
            ".out.png.\(alive).9.tmp",                  // a live writer (this process)
            ".\(dead).1.tmp",                           // no name before the pid: not our shape
            ".out.png.\(dead).x1.tmp",                  // not our shape
            ".out.png.\(dead).tmp",                     // not our shape
            "out.png.\(dead).1.tmp",                    // not hidden: not ours
            "photo.png",                                // user files
        ]
        for name in stale + stale2 + kept { touch(dir.file(name)) }
        try FileManager.default.createDirectory(atPath: dir.file(".diffusiond-strips.\(dead).8.raw"), withIntermediateDirectories: false)

        try Pictures.rgb8(width: 8, height: 8).write(to: dir.file("out.png"), overwrite: false)
        XCTAssertEqual(Set(dir.entries), Set(kept + ["out.png", ".diffusiond-strips.\(dead).8.raw"]),
                       "any write sweeps every dead writer's temporaries (any output's, strips, spools), as the "
                       + "protocol promises; live writers' files, other shapes and folders are never removed")

        // A new stream sweeps the same streaming kinds (both), leaving everything else.
        touch(dir.file(".diffusiond-strips.\(dead).78.raw"))
        touch(dir.file(".diffusiond-spool.\(dead).6.tif"))
        let sink = try StripFileSink(directory: dir.path, width: 4, height: 4, bands: 3, format: .uchar)
        XCTAssertFalse(dir.entries.contains(".diffusiond-strips.\(dead).78.raw"), "a new strip file sweeps dead ones")
        XCTAssertFalse(dir.entries.contains(".diffusiond-spool.\(dead).6.tif"), "and dead spools")
        XCTAssertTrue(dir.entries.contains(".diffusiond-strips.\(dead).8.raw"), "only regular files are removed")
        withExtendedLifetime(sink) {}
        for name in kept { XCTAssertTrue(dir.entries.contains(name), name) }
    }

    func testUnreadableFolderSweepsNothing() {
        XCTAssertEqual(StaleTemporaries.sweep(directory: "/nonexistent-\(UUID().uuidString)", pattern: .strips), 0)
    }
}
