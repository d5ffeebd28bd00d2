import Foundation
import Glibc
import XCTest
@testable import Imaging

/// A folder larger than one readdir buffer (32 KiB): the sweep copied each entry's whole 256-byte d_name,
/// reading past the end of the buffer at its last short entry (AddressSanitizer: heap-buffer-overflow in
/// StaleTemporaries.sweep, from scripts/sanitize.sh on the daemon suite). Names of every length are read exactly.
final class StaleTemporariesLargeFolderTests: XCTestCase {
    func testEveryNameInAFolderOfThousandsOfEntriesIsReadExactly() throws {
        let dir = try TempDir()
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier
        var stale: Set<String> = []
        for i in 0..<3000 {
            // Short and long user files (1–200 characters) between the stale temporaries.
            FileManager.default.createFile(atPath: dir.file(String(repeating: "f", count: 1 + i % 200) + "\(i)"), contents: nil)
            if i % 100 == 0 {
                let name = ".out\(i).png.\(dead).\(i).tmp"
                FileManager.default.createFile(atPath: dir.file(name), contents: nil)
                stale.insert(name)
            }
        }
        XCTAssertEqual(StaleTemporaries.sweep(directory: dir.path, patterns: StaleTemporaries.everyKind), stale.count)
        XCTAssertEqual(dir.entries.count, 3000)
        XCTAssertTrue(Set(dir.entries).isDisjoint(with: stale))
    }
}
