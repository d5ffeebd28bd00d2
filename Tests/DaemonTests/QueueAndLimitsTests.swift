import DiffusionProtocol
import Foundation
import Imaging
import XCTest

/// Issue-2 gaps: `queued` positions follow the queue; `--max-image-pixels` bounds inputs and outputs;
/// `capabilities` lists what the Sampling target accepts.
final class QueueAndLimitsTests: XCTestCase {
    /// Reads until `want` returns true for the collected `queued` positions per id, or fails after the timeout.
    private func positions(_ client: LineSocketClient, into seen: inout [Int64: [Int]], timeout: Double,
                           until want: ([Int64: [Int]]) -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !want(seen) {
            guard let m = try client.readMessage(timeout: max(0.001, deadline.timeIntervalSinceNow)) else {
                throw LineSocketClient.ClientError.closed
            }
            if m["method"] == .string("queued"), case .integer(let id)? = m["params"]?["id"],
               let p = m["params"]?["position"]?.intValue {
                seen[id, default: []].append(p)
            }
        }
    }

    func testQueuedPositionIsReannouncedAsTheQueueMoves() throws {
        let daemon = try DaemonProcess(arguments: ["--max-queue", "4"])
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "checksum", longChecksum)
        _ = try client.waitFor(notification: "started", id: .integer(1), timeout: 20)
        try client.request(2, "checksum", longChecksum)
        try client.request(3, "checksum", longChecksum)
        try client.request(4, "checksum", ["text": "four", "rounds": 5])
        var seen: [Int64: [Int]] = [:]
        try positions(client, into: &seen, timeout: 20) { $0[4] != nil }
        XCTAssertEqual(seen[2], [1]); XCTAssertEqual(seen[3], [2]); XCTAssertEqual(seen[4], [3])

        // Removing job 2 from the queue moves 3 and 4 up by one; each hears its new place.
        try client.request(10, "cancel", ["id": 2])
        try positions(client, into: &seen, timeout: 20) { ($0[4]?.count ?? 0) >= 2 }
        XCTAssertEqual(seen[3], [2, 1]); XCTAssertEqual(seen[4], [3, 2])

        // The running job ends: 3 starts (no new position for it), 4 is next.
        try client.request(11, "cancel", ["id": 1])
        try positions(client, into: &seen, timeout: 20) { ($0[4]?.count ?? 0) >= 3 }
        XCTAssertEqual(seen[4], [3, 2, 1])
        XCTAssertEqual(seen[3], [2, 1], "a job that starts gets `started`, not another position")
        try client.request(12, "cancel", ["id": 3])
        XCTAssertEqual(try client.collect(id: .integer(4), timeout: 30).response["result"]?["fnv1a64"],
                       .string(ChecksumPlugin.fnv1a64("four", rounds: 5)))
    }

    /// small.png is 16×12 = 192 px: over a 100 px budget as input. A 9×9 input may become 10×10 (100 px), not 11×10.
    func testMaxImagePixelsBoundsInputsAndOutputs() throws {
        let daemon = try DaemonProcess(arguments: ["--max-image-pixels", "100"])
        defer { daemon.stop() }
        let client = try daemon.connect()
        let caps = try client.call(id: .integer(1), method: "capabilities", timeout: 20)
        XCTAssertEqual(caps["result"]?["limits"]?["max_image_pixels"], .integer(100))

        let small = TestPaths.fixtures + "/small.png"
        let input = try client.call(id: .integer(2), method: "resize", params: ["image": ["path": .string(small)], "width": 4], timeout: 20)
        XCTAssertEqual(input.errorCode, RPCErrorCode.imageTooLarge, "\(input)")
        XCTAssertEqual(input["error"]?["data"]?["field"], .string("image.path"))

        // A 9×9 inline image is within budget; resizing it to 10×10 (100 px) is allowed, to 11×10 is not.
        let tiny = try VipsImage.load(path: small, limits: .default).resized(width: 9, height: 9, kernel: .nearest)
        let tinyB64 = Data(try tiny.encoded(format: .png)).base64EncodedString()
        let ok = try client.call(id: .integer(4), method: "resize", params: ["image": ["base64": .string(tinyB64)], "width": 10, "height": 10], timeout: 20)
        XCTAssertEqual(ok["result"]?["image"]?["width"], .integer(10), "\(ok)")
        let over = try client.call(id: .integer(5), method: "resize", params: ["image": ["base64": .string(tinyB64)], "width": 11, "height": 10], timeout: 20)
        XCTAssertEqual(over.errorCode, RPCErrorCode.imageTooLarge, "\(over)")
        XCTAssertEqual(over["error"]?["data"]?["field"], .string("width"))
    }

    func testCapabilitiesListSamplersSchedulersAndRNGs() throws {
        let daemon = try DaemonProcess(withChecksumPlugin: false)
        defer { daemon.stop() }
        let caps = try daemon.connect().call(id: .integer(1), method: "capabilities", timeout: 20)
        let samplers = caps["result"]?["samplers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertTrue(Set(["euler", "euler_a", "dpmpp_2m", "ddim"]).isSubset(of: Set(samplers)), "\(samplers)")
        XCTAssertEqual(caps["result"]?["rngs"], ["cpu", "cuda"])
        let schedulers = caps["result"]?["schedulers"]?.arrayValue?.compactMap(\.stringValue) ?? []
        XCTAssertTrue(Set(["normal", "karras", "exponential"]).isSubset(of: Set(schedulers)), "\(schedulers)")
    }
}
