import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// A disk that fills up under a write, and a read-only output folder: each request gets -32012 naming the
/// output path and the reason, nothing of the output or its temporaries is left behind, and the daemon goes on
/// serving. The output folder is a small tmpfs (needs root; skipped with a message where mounting is refused).
final class DiskFullTests: XCTestCase {
    /// The reply must be -32012 for `path`, saying the disk is full; the folder must be empty afterwards.
    func assertDiskFull(_ reply: JSONValue, path: String, in mount: ScratchMount, line: UInt = #line) {
        XCTAssertEqual(reply.errorCode, RPCErrorCode.writeFailed, "\(reply)", line: line)
        XCTAssertEqual(reply["error"]?["data"]?["path"], .string(path), "the error names the output: \(reply)", line: line)
        XCTAssertEqual(reply["error"]?["data"]?["field"], "output.path", line: line)
        let message = reply["error"]?["message"]?.stringValue ?? ""
        XCTAssertTrue(message.contains("No space left on device"), message, line: line)
        XCTAssertEqual(mount.entries, [], "no partial output and no temporary is left", line: line)
    }

    /// A plain write (the 256x256 photo resized to 1024x1024, a PNG of several hundred KB) into 64 KB.
    func testNormalWriteIntoAFullDisk() throws {
        let mount = try ScratchMount(bytes: 64 << 10)
        let daemon = try FaultFixtures.daemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let out = mount.file("big.png")
        try client.request(1, "resize", ["image": ["path": .string(FaultFixtures.photo256)], "width": 1024, "output": ["path": .string(out)]])
        assertDiskFull(try client.collect(id: .integer(1), timeout: 60).response, path: out, in: mount)
        // The space is free again: a small output into the same folder succeeds.
        let fits = mount.file("small.png")
        try client.request(2, "resize", ["image": ["path": .string(FaultFixtures.small)], "width": 16, "output": ["path": .string(fits)]])
        XCTAssertNil(try client.collect(id: .integer(2), timeout: 60).response["error"])
        XCTAssertEqual(try FaultFixtures.decodesCompletely(fits).width, 16)
        try FaultFixtures.assertServes(daemon)
    }

    /// A streamed upscale (64x64 ×4 = 256x256 RGB, 196,608 bytes = 48 pages of temporary rows): once while the
    /// rows are streamed to their temporary file (the disk holds 64 KB), once while the finished rows are encoded
    /// into the output (the rows fit in 50 pages, the PNG of a 256x256 photo beside them does not).
    func testStreamedUpscaleIntoAFullDisk() throws {
        let daemon = try FaultFixtures.daemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        var id: Int64 = 0
        for (bytes, stage) in [(64 << 10, "rows"), (50 * 4096, "encode")] {
            let mount = try ScratchMount(bytes: bytes)
            let out = mount.file("up-\(stage).png")
            id += 1
            try client.request(id, "upscale", FaultFixtures.streamedUpscale(FaultFixtures.photo64, to: out))
            let reply = try client.collect(id: .integer(id), timeout: 300).response
            assertDiskFull(reply, path: out, in: mount)
            let message = reply["error"]?["message"]?.stringValue ?? ""
            XCTAssertEqual(message.contains("writing the temporary \(mount.path)/.diffusiond-strips."), stage == "rows",
                           "the rows fail in their temporary file, the encode in the output's: \(message)")
        }
        try FaultFixtures.assertServes(daemon)
    }

    /// A read-only folder is refused before the work starts, with the reason; nothing is created.
    func testReadOnlyOutputFolder() throws {
        let mount = try ScratchMount(bytes: 1 << 20, readOnly: true)
        let daemon = try FaultFixtures.daemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let requests: [(String, [String: JSONValue])] = [
            ("resize", ["image": ["path": .string(FaultFixtures.small)], "width": 8, "output": ["path": .string(mount.file("r.png"))]]),
            ("upscale", FaultFixtures.streamedUpscale(FaultFixtures.photo64, to: mount.file("u.png"))),
            ("generate", ["model": "tiny", "prompt": "a fox", "width": 16, "height": 16, "steps": 1, "output": ["path": .string(mount.file("g.png"))]]),
        ]
        for (index, (method, params)) in requests.enumerated() {
            let id = Int64(index + 1)
            try client.request(id, method, params)
            let (reply, notes) = try client.collect(id: .integer(id), timeout: 120)
            XCTAssertEqual(reply.errorCode, RPCErrorCode.writeFailed, "\(method): \(reply)")
            XCTAssertEqual(reply["error"]?["data"]?["path"], params["output"]?["path"])
            let message = reply["error"]?["message"]?.stringValue ?? ""
            XCTAssertTrue(message.contains("not writable") && message.contains("Read-only file system"), message)
            XCTAssertFalse(notes.contains { ["upscale", "write"].contains($0["params"]?["stage"]?.stringValue ?? "") },
                           "refused before the work: \(notes)")
        }
        XCTAssertEqual(mount.entries, [])
        try FaultFixtures.assertServes(daemon)
    }
}
