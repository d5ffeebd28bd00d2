import DiffusionProtocol
import Foundation
import Imaging
import XCTest

/// img2img with an SD 2 depth model through the socket: the depth map travels as a grey PNG of another size
/// than the image, and the written image equals diffusers' StableDiffusionDepth2ImgPipeline output for the
/// same case (Tests/Fixtures/depth/ref-depth_euler_cfg.png) within 1/255.
final class DepthOperationTests: XCTestCase {
    static let depth = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/depth").path

    func testDepthImg2ImgThroughTheSocketEqualsDiffusers() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/depth", withDestinationPath: Self.depth + "/diffusers")
        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let out = daemon.dir.file("fox.png")
        // The first case of make_depth_fixtures.py.
        try client.request(1, "img2img", [
            "model": "depth", "prompt": "a red fox sitting in the snow", "negative_prompt": "blurry",
            "image": ["path": .string(Self.depth + "/init.png")],
            "depth_map": ["path": .string(Self.depth + "/depth-depth_euler_cfg.png")],
            "strength": 0.7, "steps": 10, "cfg_scale": 7.5, "seed": 41, "sampler": "euler",
            "output": ["path": .string(out)],
        ])
        let reply = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)\n\(daemon.log)")
        let ours = try VipsImage.load(path: out, limits: .default).planarRGB()
        let reference = try VipsImage.load(path: Self.depth + "/ref-depth_euler_cfg.png", limits: .default).planarRGB()
        XCTAssertEqual([ours.width, ours.height], [reference.width, reference.height])
        // planarRGB is in [-1, 1]: one 8-bit step is 2/255.
        let worst = zip(ours.values, reference.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 2.0 / 255 + 1e-6, "8-bit difference \(worst * 255 / 2)")
    }
}
