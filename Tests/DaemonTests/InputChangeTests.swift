@testable import Daemon
import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// An input file truncated, emptied or replaced while jobs read it: a job that got a damaged file answers with an
/// image error (-32002) and leaves nothing in its output folder, never a crash, and the daemon goes on serving.
final class InputChangeTests: XCTestCase {
    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// Replaces `path` by rename, as editors save: readers holding the old file keep it whole.
    func replace(_ path: String, with data: Data) throws {
        let temporary = path + ".new"
        try data.write(to: URL(fileURLWithPath: temporary))
        XCTAssertEqual(rename(temporary, path), 0)
    }

    /// Each way the file can change, one after another: truncated in place (for the decoded resize and the
    /// streamed upscale, which decodes rows lazily while its tiles run), emptied, replaced by a non-image, and
    /// replaced by a good image again.
    func testEachChangeGivesAnImageError() throws {
        let daemon = try FaultFixtures.daemon()
        defer { daemon.stop() }
        let dir = try TempDir()
        let input = dir.file("in.png"), outputs = dir.file("out")
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: false)
        let good = try bytes(FaultFixtures.photo64)
        let client = try daemon.connect()
        var id: Int64 = 0
        func send(_ method: String, _ params: [String: JSONValue]) throws -> JSONValue {
            id += 1
            try client.request(id, method, params)
            return try client.collect(id: .integer(id), timeout: 300).response
        }
        func resize() throws -> JSONValue {
            try send("resize", ["image": ["path": .string(input)], "width": 32, "output": ["path": .string(outputs + "/r\(id).png")]])
        }
        func upscale() throws -> JSONValue {
            try send("upscale", FaultFixtures.streamedUpscale(input, to: outputs + "/u\(id).png"))
        }

        try good.write(to: URL(fileURLWithPath: input))
        XCTAssertNil(try resize()["error"])
        XCTAssertNil(try upscale()["error"])
        try FileManager.default.removeItem(atPath: outputs)
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: false)

        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: input))
        try handle.truncate(atOffset: UInt64(good.count / 2))
        try handle.close()
        let kernel = try send("upscale", ["image": ["path": .string(input)], "model": "lanczos3", "scale": 2,
                                          "output": ["path": .string(outputs + "/k.png")]])
        for (what, reply) in [("truncated, resize", try resize()), ("truncated, streamed upscale", try upscale()),
                              ("truncated, kernel upscale (the damage surfaces in the encode)", kernel)] {
            XCTAssertEqual(reply.errorCode, RPCErrorCode.unsupportedImage, "\(what): \(reply)")
            XCTAssertEqual(reply["error"]?["data"]?["field"]?.stringValue?.hasPrefix("image"), true, "\(what): \(reply)")
        }
        try Data().write(to: URL(fileURLWithPath: input))
        XCTAssertEqual(try resize().errorCode, RPCErrorCode.unsupportedImage, "an emptied file")
        try replace(input, with: try bytes(TestPaths.fixtures + "/not-an-image.png"))
        XCTAssertEqual(try upscale().errorCode, RPCErrorCode.unsupportedImage, "replaced by a non-image")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outputs), [], "no output and no temporary of a failed job")

        try replace(input, with: good)
        XCTAssertNil(try upscale()["error"], "replaced by a good image again")
        try FaultFixtures.assertServes(daemon)
    }

    /// A writer keeps rewriting, truncating and replacing the input while jobs read it back to back: every job
    /// answers once, with its result (it read a whole file: the output decodes completely) or an image error.
    func testInputChangingUnderRunningJobs() throws {
        let daemon = try FaultFixtures.daemon()
        defer { daemon.stop() }
        let dir = try TempDir()
        let input = dir.file("in.png")
        let good = try bytes(FaultFixtures.photo256)
        try good.write(to: URL(fileURLWithPath: input))
        let stop = Locked(false)
        let writer = Thread { [self] in
            var round = 0
            while !stop.withLock({ $0 }) {
                round += 1
                switch round % 4 {
                case 0:  // rewritten in place, a piece at a time
                    let fd = open(input, O_WRONLY | O_TRUNC)
                    good.withUnsafeBytes { raw in
                        var offset = 0
                        while offset < raw.count {
                            let n = min(4096, raw.count - offset)
                            _ = write(fd, raw.baseAddress! + offset, n)
                            offset += n
                        }
                    }
                    close(fd)
                case 1: _ = truncate(input, off_t(Int.random(in: 0 ..< good.count)))
                case 2: try? replace(input, with: good.prefix(Int.random(in: 0 ..< good.count)))
                default: try? replace(input, with: good)
                }
                usleep(UInt32.random(in: 0 ..< 3000))
            }
        }
        writer.start()
        defer { stop.withLock { $0 = true } }
        let client = try daemon.connect()
        var outcomes: [String: Int] = [:]
        for id in Int64(1) ... 30 {
            let out = dir.file("out\(id).png")
            let params: [String: JSONValue] = id % 2 == 0
                ? ["image": ["path": .string(input)], "width": 64, "output": ["path": .string(out)]]
                : FaultFixtures.streamedUpscale(input, to: out).merging(["tile": 64, "overlap": 8]) { $1 }
            try client.request(id, id % 2 == 0 ? "resize" : "upscale", params)
            let reply = try client.collect(id: .integer(id), timeout: 300).response
            if reply["result"] != nil {
                outcomes["result", default: 0] += 1
                XCTAssertNoThrow(try FaultFixtures.decodesCompletely(out), "a result is a complete file")
            } else {
                XCTAssertEqual(reply.errorCode, RPCErrorCode.unsupportedImage, "\(reply)")
                outcomes["image error", default: 0] += 1
                XCTAssertFalse(FileManager.default.fileExists(atPath: out))
            }
        }
        stop.withLock { $0 = true }
        XCTAssertEqual(FaultFixtures.temporaries(in: dir.path), [])
        try FaultFixtures.assertServes(daemon)
        print("input changing under jobs: \(outcomes)")
    }
}
