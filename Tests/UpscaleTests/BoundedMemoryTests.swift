import Engine
import Foundation
import Imaging
import Models
import Tensor
import Weights
import XCTest

/// Peak memory of the streaming pipeline depends on the tile size and the image width, not on the image height
/// or the output's decoded size: the same job on an image 16× taller must not need more memory.
///
/// Each size runs in its own `diffusiond-bench upscale-memory` process (a fresh heap, VmHWM reset after the
/// input is generated), with a deliberately tiny SRVGGNetCompact (4 features, no body convs) so the debug
/// build stays fast — the pipeline, not the network, is what holds or streams the output. The full-size check
/// with the real network (3000² ×4 → 12000²) is scripts/check_upscale_memory.sh on a release build.
final class BoundedMemoryTests: XCTestCase {
    func writeTinyCompactModel(to path: String) throws {
        var writer = SafeTensorsWriter()
        func values(_ n: Int, _ seed: Int) -> [Float] { (0..<n).map { Float(($0 * 7919 + seed) % 101) / 1000 - 0.05 } }
        try writer.add("body.0.weight", Tensor(shape: [4, 3, 3, 3], values: values(108, 1)))
        try writer.add("body.0.bias", Tensor(shape: [4], values: values(4, 2)))
        try writer.add("body.1.weight", Tensor(shape: [4], values: [0.25, 0.25, 0.25, 0.25]))
        try writer.add("body.2.weight", Tensor(shape: [48, 4, 3, 3], values: values(48 * 36, 3)))
        try writer.add("body.2.bias", Tensor(shape: [48], values: values(48, 4)))
        try writer.write(to: path)
    }

    static func executable() -> String? {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        var candidates = [bundleDir.appendingPathComponent("diffusiond-bench").path]
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().appendingPathComponent("diffusiond-bench").path)
        }
        candidates.append(UpscaleFixtures.repoRoot + "/.build/debug/diffusiond-bench")
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs one job in a child process; returns (peak RSS growth, output decoded bytes as 8-bit).
    func measure(binary: String, models: String, width: Int, height: Int, dir: String) throws -> (growth: Int, decoded: Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["upscale-memory", "--models", models, "--model", "tiny", "--threads", "2",
                             "--width", "\(width)", "--height", "\(height)", "--tile", "64", "--overlap", "8",
                             "--output", dir + "/out-\(height).tif"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
        let peak = try XCTUnwrap(json["peak_rss_bytes"] as? Int), before = try XCTUnwrap(json["rss_before_bytes"] as? Int)
        return (peak - before, try XCTUnwrap(json["output_decoded_bytes"] as? Int))
    }

    func testPeakMemoryDoesNotGrowWithImageHeight() throws {
        guard let binary = Self.executable() else { throw XCTSkip("diffusiond-bench executable not built next to the tests") }
        let dir = try UpscaleFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
        try writeTinyCompactModel(to: dir + "/models/tiny.safetensors")
        let short = try measure(binary: binary, models: dir + "/models", width: 128, height: 512, dir: dir)
        let tall = try measure(binary: binary, models: dir + "/models", width: 128, height: 8192, dir: dir)
        print("peak RSS growth: \(short.growth >> 10) KiB for a 512x2048 output, \(tall.growth >> 10) KiB for 512x32768 "
              + "(decoded 8-bit: \(short.decoded >> 20) MB vs \(tall.decoded >> 20) MB; as float32 four times that)")
        // The taller output holds 150 MB more float32 samples (38 MB more 8-bit ones); a pipeline that kept the
        // output (or its input) in memory would grow by at least that. Allow 6 MB for allocator and libvips
        // cache noise.
        XCTAssertLessThan(tall.growth, short.growth + (6 << 20))
        // And in absolute terms: far below the decoded output (measured ~11 MB against 50 MB).
        XCTAssertLessThan(tall.growth, tall.decoded / 3)
        XCTAssertGreaterThan(tall.decoded, 16 * short.decoded - 1)
    }
}
