import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// Admission control: a job whose estimated peak cannot fit the memory budget is refused at once (-32008, with
/// the numbers in `data`) while a fitting job keeps running, and `status` reports the running job's estimate.
final class AdmissionControlTests: XCTestCase {
    func testOversizedJobIsRefusedAtOnceWhileAFittingOneRuns() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        // The real networks ./scripts/setup.sh unpacks (the upscaler tests need them too).
        let networks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/realesrgan").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: networks + "/realesrgan-x4plus.param"), "run ./scripts/setup.sh")
        try FileManager.default.createSymbolicLink(atPath: models + "/realesrgan", withDestinationPath: networks)
        let daemon = try DaemonProcess(arguments: ["--models", models, "--memory-budget", "1G"], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let worker = try daemon.connect()
        try worker.request(1, "generate", ["model": "tiny", "prompt": "x", "steps": 1000, "width": 32, "height": 32,
                                           "sampler": "euler_a", "output": ["format": "png"]])
        while true {
            let n = try worker.waitFor(notification: "progress", id: .integer(1), timeout: 60)
            if n["params"]?["stage"] == "sampling" { break }
        }

        let other = try daemon.connect()
        let started = Date()
        try other.request(2, "generate", ["model": "tiny", "prompt": "x", "batch_size": 16, "width": 2048, "height": 2048,
                                          "output": ["format": "png"]])
        let refused = try other.collect(id: .integer(2), timeout: 10)
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "refused at once, not after the running job")
        XCTAssertEqual(refused.response.errorCode, RPCErrorCode.outOfMemoryBudget, "\(refused.response)")
        XCTAssertTrue(refused.notifications.isEmpty, "a refused job is never queued: \(refused.notifications)")
        let data = refused.response["error"]?["data"]
        XCTAssertEqual(data?["budget_bytes"]?.intValue, 1 << 30)
        XCTAssertGreaterThan(data?["estimated_bytes"]?.intValue ?? 0, 1 << 30, "\(refused.response)")
        XCTAssertGreaterThan(data?["available_bytes"]?.intValue ?? 0, 0)
        XCTAssert(refused.response["error"]?["message"]?.stringValue?.contains("--memory-budget") ?? false)

        // A tiled upscale whose one tile would not fit is refused the same way.
        try other.request(3, "upscale", ["image": ["path": .string(dir.file("missing.png"))], "model": "realesrgan-x4plus", "tile": 2048,
                                         "output": ["format": "png"]])
        let upscale = try other.collect(id: .integer(3), timeout: 10).response
        XCTAssertEqual(upscale.errorCode, RPCErrorCode.outOfMemoryBudget, "\(upscale)")
        XCTAssertGreaterThan(upscale["error"]?["data"]?["estimated_bytes"]?.intValue ?? 0, 1 << 30)

        try other.request(4, "status")
        let status = try other.collect(id: .integer(4), timeout: 10).response
        let running = status["result"]?["running"]
        XCTAssertEqual(running?["id"], 1, "the fitting job still runs: \(status)")
        let estimate = running?["estimated_bytes"]?.intValue ?? 0
        XCTAssertGreaterThan(estimate, status["result"]?["resident_bytes"]?.intValue ?? .max, "weights plus working memory")
        XCTAssertLessThan(estimate, 1 << 30)

        try other.request(5, "cancel", ["id": 1])
        XCTAssertEqual(try worker.collect(id: .integer(1), timeout: 30).response.errorCode, RPCErrorCode.cancelled)
    }
}
