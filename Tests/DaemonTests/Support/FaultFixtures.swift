import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// What the fault tests share: a models folder with the tiny fixture models, inputs, and the checks that a
/// folder holds nothing half-written.
enum FaultFixtures {
    static let fixtures = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures").path
    static let small = TestPaths.fixtures + "/small.png"        // 16x12 RGBA
    static let photo64 = fixtures + "/upscale/photo64.png"      // 64x64 RGB photo
    static let photo256 = fixtures + "/upscale/photo256.png"    // 256x256 RGB photo

    /// `DIR/models` with the tiny SD 1 model as `tiny` and the tiny SRVGGNetCompact (x4) as `tiny_compact`,
    /// both symbolic links to the committed fixtures.
    static func modelsFolder(in dir: TempDir) throws -> String {
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models + "/upscalers", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: fixtures + "/sd/sd1/diffusers")
        try FileManager.default.createSymbolicLink(atPath: models + "/upscalers/tiny_compact.pth",
                                                   withDestinationPath: fixtures + "/upscale/tiny_compact.pth")
        return models
    }

    /// A daemon serving `modelsFolder`.
    static func daemon(_ extra: [String] = []) throws -> DaemonProcess {
        let dir = try TempDir()
        return try DaemonProcess(arguments: ["--models", try modelsFolder(in: dir)] + extra, withChecksumPlugin: false, dir: dir)
    }

    /// Upscale params with the tiny network: ×4, tiles of 16 with overlap 4 (so there are many tiles to be in the
    /// middle of), to `output`.
    static func streamedUpscale(_ input: String, to output: String, overwrite: Bool = false) -> [String: JSONValue] {
        ["image": ["path": .string(input)], "model": "tiny_compact", "tile": 16, "overlap": 4,
         "output": ["path": .string(output), "overwrite": .bool(overwrite)]]
    }

    /// Names in `folder` that are temporaries of ours (atomic writes, strips, spools): hidden, dot-separated.
    static func temporaries(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            $0.hasPrefix(".") && ($0.hasSuffix(".tmp") || $0.hasPrefix(".diffusiond-strips.") || $0.hasPrefix(".diffusiond-spool."))
        }.sorted()
    }

    /// The daemon still serves: a ping and a small resize both answer.
    static func assertServes(_ daemon: DaemonProcess, file: StaticString = #filePath, line: UInt = #line) throws {
        let client = try daemon.connect()
        XCTAssertEqual(try client.call(id: .integer(900), method: "ping", timeout: 20)["result"]?["pong"], .bool(true),
                       file: file, line: line)
        try client.request(901, "resize", ["image": ["path": .string(small)], "width": 8])
        let reply = try client.collect(id: .integer(901), timeout: 60).response
        XCTAssertEqual(reply["result"]?["image"]?["width"], 8, "\(reply)", file: file, line: line)
    }

    /// Decodes an image file completely (every pixel): a half-written file fails here.
    static func decodesCompletely(_ path: String) throws -> (width: Int, height: Int) {
        let image = try VipsImage.load(path: path, mode: .decoded)
        return (image.width, image.height)
    }
}
