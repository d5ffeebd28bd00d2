import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// Several clients, one queue: isolation of responses, busy, cancellation and disconnects.
final class ConcurrencyTests: XCTestCase {
    /// 16 clients interleave pings and checksum jobs with the same ids; each gets exactly its own answers.
    func testSixteenClientsGetOnlyTheirOwnResponses() throws {
        let daemon = try DaemonProcess(arguments: ["--max-queue", "64"])
        defer { daemon.stop() }
        let clients = try (0..<16).map { _ in try daemon.connect() }
        // Everyone sends before anyone reads, so requests really interleave in the daemon.
        for (n, client) in clients.enumerated() {
            try client.request(1, "checksum", ["text": .string("client-\(n)"), "rounds": JSONValue(1000 + n)])
            try client.request(2, "ping")
            try client.request(3, "checksum", ["text": .string("again-\(n)"), "rounds": 7])
        }
        for (n, client) in clients.enumerated() {
            var results: [Int64: JSONValue] = [:]
            let deadline = Date().addingTimeInterval(60)
            while results.count < 3, Date() < deadline {
                let m = try XCTUnwrap(try client.readMessage(timeout: 60))
                if let params = m["params"] {
                    // Notifications must be about this client's own jobs.
                    XCTAssertTrue([JSONValue.integer(1), .integer(3)].contains(params["id"] ?? .null), "\(m)")
                    continue
                }
                guard case .integer(let id)? = m["id"] else { return XCTFail("reply without id: \(m)") }
                XCTAssertNil(results[id], "two responses for id \(id)")
                results[id] = m
            }
            XCTAssertEqual(results[1]?["result"]?["fnv1a64"], .string(ChecksumPlugin.fnv1a64("client-\(n)", rounds: 1000 + n)))
            XCTAssertEqual(results[2]?["result"]?["pong"], .bool(true))
            XCTAssertEqual(results[3]?["result"]?["fnv1a64"], .string(ChecksumPlugin.fnv1a64("again-\(n)", rounds: 7)))
        }
    }

    /// With one job running and --max-queue 2 waiting, the next job gets busy at once; cancelling a queued
    /// job removes it (-32800 for it), cancelling the running one stops it (-32800), and the rest runs.
    func testQueueFullBusyAndCancelQueuedAndRunning() throws {
        let daemon = try DaemonProcess(arguments: ["--max-queue", "2"])
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "checksum", longChecksum)
        _ = try client.waitFor(notification: "started", id: .integer(1), timeout: 20)
        try client.request(2, "checksum", ["text": "two", "rounds": 5])
        try client.request(3, "checksum", ["text": "three", "rounds": 5])
        let busyStart = Date()
        try client.request(4, "checksum", ["text": "four", "rounds": 5])
        let four = try client.collect(id: .integer(4), timeout: 20).response
        XCTAssertEqual(four.errorCode, RPCErrorCode.busy)
        XCTAssertLessThan(Date().timeIntervalSince(busyStart), 5, "busy must be immediate")

        // Cancel queued job 2.
        try client.request(10, "cancel", ["id": 2])
        var seen: [Int64: JSONValue] = [:]
        while seen[10] == nil || seen[2] == nil {
            let m = try XCTUnwrap(try client.readMessage(timeout: 20))
            if case .integer(let id)? = m["id"] { seen[id] = m }
        }
        XCTAssertEqual(seen[10]?["result"]?["state"], .string("queued"))
        XCTAssertEqual(seen[2]?.errorCode, RPCErrorCode.cancelled)

        // Cancel running job 1: it stops at its next check, then 3 runs to completion.
        try client.request(11, "cancel", ["id": 1])
        seen = [:]
        let deadline = Date().addingTimeInterval(30)
        while (seen[11] == nil || seen[1] == nil || seen[3] == nil), Date() < deadline {
            let m = try XCTUnwrap(try client.readMessage(timeout: 30))
            if case .integer(let id)? = m["id"] { seen[id] = m }
        }
        XCTAssertEqual(seen[11]?["result"]?["state"], .string("running"))
        XCTAssertEqual(seen[1]?.errorCode, RPCErrorCode.cancelled)
        XCTAssertEqual(seen[3]?["result"]?["fnv1a64"], .string(ChecksumPlugin.fnv1a64("three", rounds: 5)))
    }

    /// A client that disconnects has its running and queued jobs cancelled: the worker is free again.
    func testDisconnectCancelsTheClientsJobs() throws {
        let daemon = try DaemonProcess(arguments: ["--max-queue", "4"])
        defer { daemon.stop() }
        do {
            let leaving = try daemon.connect()
            try leaving.request(1, "checksum", longChecksum)
            _ = try leaving.waitFor(notification: "started", id: .integer(1), timeout: 20)
            try leaving.request(2, "checksum", longChecksum)
            _ = try leaving.waitFor(notification: "queued", id: .integer(2), timeout: 20)
        }  // closed here
        let other = try daemon.connect()
        let deadline = Date().addingTimeInterval(10)
        var idle = false
        while Date() < deadline {
            let status = try other.call(id: .integer(9), method: "status", timeout: 10)
            if status["result"]?["running"] == .null, status["result"]?["queue_length"]?.intValue == 0 { idle = true; break }
            usleep(50_000)
        }
        XCTAssertTrue(idle, "the disconnected client's jobs should be cancelled within 10 s")
        XCTAssertTrue(daemon.log.contains("the client disconnected"))
    }

    /// `cancel` from another connection (as `diffusionctl cancel ID` does) stops the job.
    func testCancelFromAnotherConnection() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let owner = try daemon.connect()
        try owner.request(77, "checksum", longChecksum)
        _ = try owner.waitFor(notification: "started", id: .integer(77), timeout: 20)
        let other = try daemon.connect()
        let reply = try other.call(id: .integer(1), method: "cancel", params: ["id": 77], timeout: 10)
        XCTAssertEqual(reply["result"]?["cancelled"], .bool(true))
        let final = try owner.collect(id: .integer(77), timeout: 20).response
        XCTAssertEqual(final.errorCode, RPCErrorCode.cancelled)
    }

    /// Reusing the id of an unfinished job on the same connection is refused.
    func testDuplicateIdIsRefused() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(5, "checksum", longChecksum)
        _ = try client.waitFor(notification: "started", id: .integer(5), timeout: 20)
        try client.request(5, "checksum", ["text": "x", "rounds": 1])
        let m = try client.collect(id: .integer(5), timeout: 10).response
        XCTAssertEqual(m.errorCode, RPCErrorCode.invalidRequest)
        try client.request(6, "cancel", ["id": 5])
    }
}
