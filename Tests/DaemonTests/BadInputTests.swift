import DiffusionProtocol
import Foundation
import XCTest

/// Hostile input on a real socket: each case gets the right error and the daemon keeps serving.
final class BadInputTests: XCTestCase {
    /// An over-long line is answered with -32009 and the connection is closed, without the daemon
    /// buffering it: we stream limit+1 bytes with no newline (a "1 GB line" is the same case, only slower).
    func testOverlongLineIsRefusedAndConnectionClosed() throws {
        let limit = 1 << 20
        let daemon = try DaemonProcess(arguments: ["--max-line-bytes", String(limit)], withChecksumPlugin: false)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024)
        var sent = 0
        // Bounded: at most limit + a few chunks; the daemon may close before we finish (EPIPE is fine).
        while sent <= limit + chunk.count {
            do { try client.sendRaw(chunk) } catch { break }
            sent += chunk.count
        }
        let reply = try XCTUnwrap(try client.readMessage(timeout: 10))
        XCTAssertEqual(reply.errorCode, RPCErrorCode.lineTooLong)
        XCTAssertEqual(reply["id"], .null)
        XCTAssertEqual(reply["error"]?["data"]?["limit"]?.intValue, limit)
        XCTAssertNil(try client.readMessage(timeout: 10), "the connection must be closed after an over-long line")

        // The daemon is fine and its memory did not balloon (limit 1 MiB: RSS well under 200 MB in debug).
        let other = try daemon.connect()
        let status = try other.call(id: .integer(1), method: "status", timeout: 10)
        let rss = try XCTUnwrap(status["result"]?["memory"]?["rss_bytes"]?.intValue)
        XCTAssertLessThan(rss, 200 << 20)
    }

    /// A line just under the limit is still parsed (the limit is on the line, not a chunk).
    func testLineAtTheLimitIsAccepted() throws {
        let limit = 64 * 1024
        let daemon = try DaemonProcess(arguments: ["--max-line-bytes", String(limit)], withChecksumPlugin: false)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let prefix = Array(#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}"#.utf8)
        let padded = prefix + [UInt8](repeating: 0x20, count: limit - prefix.count)  // trailing whitespace is valid JSON
        try client.sendRaw(padded + [0x0A])
        let reply = try XCTUnwrap(try client.readMessage(timeout: 10))
        XCTAssertEqual(reply["result"]?["pong"], .bool(true))
    }

    /// 100,000-deep nesting is refused by the depth check, not by a stack overflow.
    func testDeepNestingIsRefused() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        let client = try daemon.connect()
        for opener in ["[", "{\"a\":"] {
            let line = String(repeating: opener, count: 100_000)
            try client.sendRaw(Array(line.utf8) + [0x0A])
            let reply = try XCTUnwrap(try client.readMessage(timeout: 10))
            XCTAssertEqual(reply.errorCode, RPCErrorCode.parseError)
            XCTAssertEqual(reply["error"]?["data"]?["reason"], .string("the JSON nests deeper than 64 levels"))
        }
        let pong = try client.call(id: .integer(2), method: "ping", timeout: 10)
        XCTAssertEqual(pong["result"]?["pong"], .bool(true))
    }

    /// Random garbage lines never crash the daemon; each gets exactly one -32700/-32600 reply.
    func testGarbageLinesEachGetOneError() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        let client = try daemon.connect()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var bytes = (0..<Int.random(in: 1...300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            bytes.removeAll { $0 == 0x0A }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) || bytes.isEmpty { bytes = [0x7B] }
            try client.sendRaw(bytes + [0x0A])
            let reply = try XCTUnwrap(try client.readMessage(timeout: 10))
            let code = try XCTUnwrap(reply.errorCode)
            XCTAssertTrue([RPCErrorCode.parseError, RPCErrorCode.invalidRequest].contains(code), "\(reply)")
        }
        let pong = try client.call(id: .integer(1), method: "ping", timeout: 10)
        XCTAssertEqual(pong["result"]?["pong"], .bool(true))
    }

    /// --allow-dir confines inputs and outputs; paths outside are refused with -32005.
    func testAllowDirConfinesPaths() throws {
        let allowed = try TempDir()
        let daemon = try DaemonProcess(arguments: ["--allow-dir", allowed.path], withChecksumPlugin: false)
        defer { daemon.stop() }
        try FileManager.default.copyItem(atPath: TestPaths.fixtures + "/small.png", toPath: allowed.file("in.png"))
        let client = try daemon.connect()
        let outside = try client.call(id: .integer(1), method: "resize", params: [
            "image": ["path": .string(TestPaths.fixtures + "/small.png")], "width": 4], timeout: 20)
        XCTAssertEqual(outside.errorCode, RPCErrorCode.pathNotAllowed)
        let badOutput = try client.call(id: .integer(2), method: "resize", params: [
            "image": ["path": .string(allowed.file("in.png"))], "width": 4, "output": ["path": .string(daemon.dir.file("o.png"))]], timeout: 20)
        XCTAssertEqual(badOutput.errorCode, RPCErrorCode.pathNotAllowed)
        let inside = try client.call(id: .integer(3), method: "resize", params: [
            "image": ["path": .string(allowed.file("in.png"))], "width": 4, "output": ["path": .string(allowed.file("o.png"))]], timeout: 20)
        XCTAssertEqual(inside["result"]?["image"]?["width"]?.intValue, 4)
    }

    /// Output through a symlink or onto a non-regular file is refused even with overwrite.
    func testOutputNeverReplacesSymlinksOrSpecialFiles() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        let target = daemon.dir.file("precious.txt")
        try "keep me".write(toFile: target, atomically: true, encoding: .utf8)
        let link = daemon.dir.file("link.png")
        XCTAssertEqual(symlink(target, link), 0)
        let client = try daemon.connect()
        let reply = try client.call(id: .integer(1), method: "resize", params: [
            "image": ["path": .string(TestPaths.fixtures + "/small.png")], "width": 4,
            "output": ["path": .string(link), "overwrite": true]], timeout: 20)
        XCTAssertEqual(reply.errorCode, RPCErrorCode.pathNotAllowed)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
    }
}

/// A client that floods requests and never reads: the daemon stops reading it instead of buffering answers
/// without bound, keeps serving others, and catches up once the client reads.
final class BackpressureTests: XCTestCase {
    func testUnreadAnswersDoNotPileUp() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        let flooder = try daemon.connect()
        // Make the socket's send buffer fill quickly; sending ends when the daemon stops reading (bounded).
        var nonblocking = fcntl(flooder.fd, F_GETFL)
        nonblocking |= O_NONBLOCK
        _ = fcntl(flooder.fd, F_SETFL, nonblocking)
        let line = Array(#"{"jsonrpc":"2.0","id":1,"method":"status"}"#.utf8) + [0x0A]
        var sent = 0
        var stalledWrites = 0  // consecutive EAGAINs, 20 ms apart: 25 = the daemon stopped reading for 0.5 s
        let deadline = Date().addingTimeInterval(20)
        while sent < 200_000, stalledWrites < 25, Date() < deadline {
            let n = line.withUnsafeBytes { write(flooder.fd, $0.baseAddress, line.count) }
            if n < 0 {
                guard errno == EAGAIN else { break }
                stalledWrites += 1
                usleep(20_000)
                continue
            }
            stalledWrites = 0
            sent += 1  // a partial write only happens at the buffer edge; the next status line still parses after it
        }
        XCTAssertEqual(stalledWrites, 25, "writes should stall")
        XCTAssertLessThan(sent, 200_000, "the daemon should stop reading a client that does not read")
        let other = try daemon.connect()
        let status = try other.call(id: .integer(9), method: "status", timeout: 10)
        let rss = try XCTUnwrap(status["result"]?["memory"]?["rss_bytes"]?.intValue)
        XCTAssertLessThan(rss, 300 << 20, "answers must not be buffered without bound")
        _ = fcntl(flooder.fd, F_SETFL, nonblocking & ~O_NONBLOCK)
        // Every request read so far is answered once the client reads.
        XCTAssertNotNil(try flooder.readMessage(timeout: 10))
    }

}
