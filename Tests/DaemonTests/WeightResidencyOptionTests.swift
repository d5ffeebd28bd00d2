import DiffusionProtocol
import Foundation
import XCTest

/// `serve --weights` (and `weights` in the config file): what `models.load`, `models.list` and `status` report
/// is the bytes the model really keeps resident, and an unknown value stops the start naming the choices.
final class WeightResidencyOptionTests: XCTestCase {
    /// The bytes `models.load` reports for the tiny fp32 sd1 model under these start-up arguments, checked
    /// against what `models.list` and `status` say about the same model.
    func residentBytes(_ arguments: [String], weights: String, dir: TempDir) throws -> Int {
        let models = dir.file("models")
        if !FileManager.default.fileExists(atPath: models) {
            try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        }
        let daemon = try DaemonProcess(arguments: ["--models", models] + arguments, withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let load = try client.call(id: .integer(1), method: "models.load", params: ["model": "tiny"], timeout: 60)
        let bytes = try XCTUnwrap(load["result"]?["bytes"]?.intValue, "\(load)")
        let list = try client.call(id: .integer(2), method: "models.list", timeout: 10)
        let listed = list["result"]?["models"]?.arrayValue?.first { $0["name"] == "tiny" }
        XCTAssertEqual(listed?["bytes"]?.intValue, bytes, "\(list)")
        let status = try client.call(id: .integer(3), method: "status", timeout: 10)
        XCTAssertEqual(status["result"]?["resident_bytes"]?.intValue, bytes, "\(status)")
        let resident = status["result"]?["models_loaded"]?.arrayValue?.first
        XCTAssertEqual(resident?["precision"], "fp32", "\(status)")
        XCTAssertEqual(resident?["weights"]?.stringValue, weights, "\(status)")
        return bytes
    }

    func testHalfWeightsHalveWhatAnFP32ModelReportsResident() throws {
        let dir = try TempDir()
        let stored = try residentBytes([], weights: "stored", dir: dir)
        let wide = try residentBytes(["--weights", "fp32"], weights: "fp32", dir: dir)
        XCTAssertEqual(stored, wide, "an fp32 file stays fp32 unless half is asked for")
        let half = try residentBytes(["--weights", "half"], weights: "half", dir: dir)
        XCTAssertLessThan(half, stored * 6 / 10, "weight matrices at 2 bytes per value")
        XCTAssertGreaterThan(half, stored / 2, "norms, biases and embeddings stay float32")

        let config = dir.file("config.json")
        try #"{"weights": "half"}"#.write(toFile: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try residentBytes(["--config", config], weights: "half", dir: dir), half, "from the config file")
    }
}

extension StartupConfigTests {
    func testUnknownWeightsValueIsRefused() throws {
        let dir = try TempDir()
        let message = try refusedStart(["--socket", dir.file("d.sock"), "--weights", "fp8"])
        XCTAssertTrue(message.contains("--weights fp8") && message.contains("stored, half, fp32"), message)
    }
}
