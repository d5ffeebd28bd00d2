import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// Through a real daemon: the bf16 copies a bf16 job with a ControlNet makes show in `status` (the ControlNet's and
/// the checkpoint's `bytes`, `resident_bytes`), which an fp32 job with the same ControlNet leaves as loaded.
final class BF16ControlStatusTests: XCTestCase {
    func testBF16ControlJobCopiesShowInStatus() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        try FileManager.default.createSymbolicLink(atPath: models + "/controlnet", withDestinationPath: AdmissionEstimateTests.fixtures + "/controlnet/models")
        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let request: [String: JSONValue] = ["model": "tiny", "prompt": "a house", "steps": 2, "seed": 5, "width": 32, "height": 32,
                                            "sampler": "euler", "output": ["format": "png"],
                                            "control": [["model": "sd1-a", "image": try ControlOperationTests.png()]]]
        func bytes(_ id: Int64) throws -> (control: Int, checkpoint: Int, total: Int) {
            let status = try client.call(id: .integer(id), method: "status", timeout: 10)["result"]
            let loaded = status?["models_loaded"]?.arrayValue ?? []
            let control = try XCTUnwrap(loaded.first { $0["kind"] == "controlnet" }?["bytes"]?.intValue, "\(String(describing: status))")
            let checkpoint = try XCTUnwrap(loaded.first { $0["name"] == "tiny" }?["bytes"]?.intValue)
            return (control, checkpoint, try XCTUnwrap(status?["resident_bytes"]?.intValue))
        }
        var fp32 = request
        fp32["precision"] = "fp32"
        try client.request(1, "generate", fp32)
        XCTAssertNil(try client.collect(id: .integer(1), timeout: 120).response["error"])
        let loaded = try bytes(2)
        try client.request(3, "generate", fp32)
        XCTAssertNil(try client.collect(id: .integer(3), timeout: 120).response["error"])
        XCTAssertEqual(try bytes(4).total, loaded.total, "fp32 jobs make no copies")

        var bf16 = request
        bf16["precision"] = "bf16"
        try client.request(5, "generate", bf16)
        let reply = try client.collect(id: .integer(5), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)")
        XCTAssertEqual(reply["result"]?["precision"], "bf16")
        let grown = try bytes(6)
        // The fixtures are fp32 files: their weight matrices' bf16 copies are at most half a file, at least half of
        // it less its biases and norms (a few KB on these tiny networks).
        let controlFile = try AdmissionEstimateTests.fileSize(AdmissionEstimateTests.controlNetFile)
        XCTAssertLessThanOrEqual(grown.control - loaded.control, controlFile / 2)
        XCTAssertGreaterThan(grown.control - loaded.control, controlFile / 2 - 16 << 10, "\(grown) after \(loaded)")
        XCTAssertGreaterThan(grown.checkpoint, loaded.checkpoint, "the text encoder's and UNet's copies")
        XCTAssertEqual(grown.total - loaded.total, (grown.control - loaded.control) + (grown.checkpoint - loaded.checkpoint))
        // Made once: a second bf16 job adds nothing.
        try client.request(7, "generate", bf16)
        XCTAssertNil(try client.collect(id: .integer(7), timeout: 120).response["error"])
        XCTAssertEqual(try bytes(8).total, grown.total)
    }
}
