import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// `status` reports per resident checkpoint the bytes of its kept LoRA set's patched copies, inside `bytes` and
/// `resident_bytes` (what `--memory-budget` counts).
final class LoRAStatusTests: XCTestCase {
    func testStatusCountsPatchedCopies() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        try FileManager.default.createSymbolicLink(atPath: models + "/loras", withDestinationPath: LoRAOperationTests.loraFolder)
        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        var params: [String: JSONValue] = ["model": "tiny", "prompt": "a fox", "steps": 1, "width": 32, "height": 32, "seed": 3]
        try client.request(1, "generate", params)
        XCTAssertNil(try client.collect(id: .integer(1), timeout: 120).response["error"])
        func tiny() throws -> (entry: JSONValue, resident: Int) {
            try client.request(99, "status", [:])
            let status = try client.collect(id: .integer(99), timeout: 60).response
            let entry = try XCTUnwrap(status["result"]?["models_loaded"]?.arrayValue?.first { $0["name"] == "tiny" }, "\(status)")
            return (entry, try XCTUnwrap(status["result"]?["resident_bytes"]?.intValue))
        }
        let before = try tiny()
        XCTAssertEqual(before.entry["lora_patched_bytes"], 0)
        let weights = try XCTUnwrap(before.entry["bytes"]?.intValue)

        params["loras"] = [["name": "sd1_locon", "weight": 0.5]]
        try client.request(2, "generate", params)
        XCTAssertNil(try client.collect(id: .integer(2), timeout: 120).response["error"])
        let after = try tiny()
        let patched = try XCTUnwrap(after.entry["lora_patched_bytes"]?.intValue)
        XCTAssertGreaterThan(patched, 0)
        XCTAssertEqual(after.entry["bytes"]?.intValue, weights + patched)
        XCTAssertEqual(after.resident, before.resident + patched)
    }
}
