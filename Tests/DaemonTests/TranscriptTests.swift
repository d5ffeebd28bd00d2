import DiffusionProtocol
import Foundation
import XCTest

/// Every transcript in protocol/examples replays against a fresh daemon and matches.
final class TranscriptTests: XCTestCase {
    func testEveryTranscriptReplays() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.transcripts).filter { $0.hasSuffix(".jsonl") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 4, "protocol/examples should hold the transcripts")
        for name in names {
            let text = try String(contentsOfFile: TestPaths.transcripts + "/" + name, encoding: .utf8)
            let lines = text.components(separatedBy: "\n")
            let dir = try TempDir()
            let extra = try TranscriptReplayer.daemonArguments(firstLine: lines.first, tmp: dir.path, name: name)
            let daemon = try DaemonProcess(arguments: ["--max-queue", "4"] + extra, dir: dir)
            defer { daemon.stop() }
            var replayer = TranscriptReplayer(client: try daemon.connect(), tmp: daemon.dir.path, name: name)
            do { try replayer.run(lines: lines) } catch {
                XCTFail("\(error)\n--- daemon log ---\n\(daemon.log)")
            }
        }
    }

    func testPatternMatcherIsStrict() {
        XCTAssertNil(TranscriptReplayer.mismatch(["a": 1, "b": "x"], ["a": "$INT", "b": "$ANY"]))
        XCTAssertNotNil(TranscriptReplayer.mismatch(["a": 1, "extra": 2], ["a": 1]), "extra members must not match")
        XCTAssertNotNil(TranscriptReplayer.mismatch(["a": 1], ["a": 1, "b": 2]), "missing members must not match")
        XCTAssertNotNil(TranscriptReplayer.mismatch(["a": 1.5], ["a": "$INT"]))
        XCTAssertNil(TranscriptReplayer.mismatch(["a": 2.0], ["a": 2]), "JSON numbers compare by value")
    }
}
