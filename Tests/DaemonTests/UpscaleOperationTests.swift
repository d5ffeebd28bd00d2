import DiffusionProtocol
import Foundation
import XCTest

/// `upscale` through the real daemon: the built-in plugin is registered, resolves a model name from --models,
/// reports per-tile progress and writes the file.
final class UpscaleOperationTests: XCTestCase {
    func testUpscaleWithTheCompactModelThroughTheSocket() throws {
        let models = TestPaths.packageRoot.appendingPathComponent("models").path
        guard FileManager.default.fileExists(atPath: models + "/realesrgan/realesr-animevideov3-x4.param") else {
            return XCTFail("models/realesrgan is missing: run ./scripts/setup.sh")
        }
        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let out = daemon.dir.file("up.png")
        let photo = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/upscale/photo32.png").path
        try client.request(1, "upscale", ["image": ["path": .string(photo)], "model": "realesr-animevideov3",
                                          "tile": 16, "overlap": 4, "output": ["path": .string(out)]])
        let (response, notes) = try client.collect(id: .integer(1), timeout: 120)
        XCTAssertEqual(response["result"]?["image"]?["width"], 128)
        XCTAssertEqual(response["result"]?["image"]?["height"], 128)
        XCTAssertEqual(response["result"]?["tiles"], 9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
        // Per-tile progress: the last tile is always reported.
        XCTAssertTrue(notes.contains { $0["params"]?["tile"] == 9 && $0["params"]?["tiles"] == 9 })
    }
}
