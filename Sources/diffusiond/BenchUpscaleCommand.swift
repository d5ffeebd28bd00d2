import ArgumentParser
import Engine
import Foundation
import Imaging
import Models
import Tensor

/// `diffusiond bench …`: timing workloads for scripts (release builds; never run from unit tests).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks and resource checks (run from a release build).",
        subcommands: [BenchCommand.self, BenchUpscale.self, BenchUpscaleMemory.self], defaultSubcommand: BenchCommand.self)
}

/// Peak resident set size of this process (VmHWM), and a way to reset it so one phase can be measured.
enum PeakMemory {
    static func peakBytes() -> Int? { statusField("VmHWM:") }
    static func currentBytes() -> Int? { statusField("VmRSS:") }
    /// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
    static func reset() { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }
    private static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name) {
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        return nil
    }
}

/// Untiled network forward time of upscalers on one image (the PyTorch side of scripts/bench_upscale.py times
/// the same forward: float32, [1, 3, H, W] in [0, 1], same thread count). One JSON line per model.
struct BenchUpscale: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "upscale", abstract: "Time upscaler networks on one image.")
    @Option(help: "Models folder.") var models = "./models"
    @Option(name: .customLong("model"), help: "Upscaler names (repeatable).") var names: [String] = ["realesrgan-x4plus", "realesr-animevideov3"]
    @Option(help: "Input image (8-bit RGB); default a deterministic synthetic 256x256 image.") var input: String?
    @Option(help: "Side of the synthetic input.") var size = 256
    @Option(help: "Compute threads.") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Timed runs (the best is reported) after one warm-up.") var repeats = 3

    func run() throws {
        _ = OpenBLASRuntime.ensureFastKernel()
        OpenBLASRuntime.setThreads(threads)
        try Imaging.initialize(threads: threads)
        let x = try inputTensor()
        for name in names {
            guard let path = UpscalerCatalog.resolve(name, in: models) else { throw ValidationError("no upscaler \(name) in \(models)") }
            let model = try UpscalerModel.load(path: path)
            _ = model.network.forward(x)
            var best = Double.infinity
            for _ in 0..<max(1, repeats) {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = model.network.forward(x)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let (h, w) = (x.shape[2] * model.network.scale, x.shape[3] * model.network.scale)
            let line: [String: Any] = ["model": name, "architecture": model.architecture, "threads": threads,
                                       "input": [x.shape[3], x.shape[2]], "output": [w, h], "seconds": best,
                                       "output_megapixels_per_second": Double(w * h) / 1e6 / best]
            let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    func inputTensor() throws -> Tensor {
        if let input {
            let image = try VipsImage.load(path: input)
            let bytes = try image.bytes()
            let (w, h, b) = (image.width, image.height, image.bands)
            var v = [Float](repeating: 0, count: 3 * w * h)
            for i in 0..<(w * h) { for c in 0..<3 { v[c * w * h + i] = Float(bytes[i * b + min(c, b - 1)]) / 255 } }
            return Tensor(shape: [1, 3, h, w], values: v)
        }
        var v = [Float](repeating: 0, count: 3 * size * size)
        for i in 0..<v.count { v[i] = Float((i * 2654435761) % 256) / 255 }
        return Tensor(shape: [1, 3, size, size], values: v)
    }
}

/// Upscales a large synthetic image through the streaming pipeline and reports peak RSS, for
/// scripts/check_upscale_memory.sh.
struct BenchUpscaleMemory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "upscale-memory", abstract: "Peak RSS of a streaming tiled upscale.")
    @Option(help: "Models folder.") var models = "./models"
    @Option(help: "Upscaler name.") var model = "realesr-animevideov3"
    @Option var width = 3000
    @Option var height = 3000
    @Option var tile = 128
    @Option var overlap = 16
    @Option(help: "Output file (e.g. .tif for tiled BigTIFF); deleted afterwards unless --keep.") var output: String
    @Flag var keep = false
    @Option var threads = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        _ = OpenBLASRuntime.ensureFastKernel()
        OpenBLASRuntime.setThreads(threads)
        try Imaging.initialize(threads: threads)
        guard let path = UpscalerCatalog.resolve(model, in: models) else { throw ValidationError("no upscaler \(model) in \(models)") }
        let upscaler = try TiledUpscaler(model: try UpscalerModel.load(path: path), tile: tile, overlap: overlap)
        // Synthetic input written as a PNG, generated one row band at a time, then read back sequentially.
        let inputPath = (output as NSString).deletingLastPathComponent + "/.bench-upscale-input-\(getpid()).png"
        defer { unlink(inputPath) }
        try SyntheticImage.write(width: width, height: height, to: inputPath)
        let image = try VipsImage.load(path: inputPath, mode: .sequential)
        PeakMemory.reset()
        let before = PeakMemory.currentBytes() ?? 0
        let start = Date()
        let isTIFF = output.hasSuffix(".tif") || output.hasSuffix(".tiff")
        try upscaler.upscale(image, to: output, overwrite: true, options: EncodeOptions(tiled: isTIFF))
        let seconds = Date().timeIntervalSince(start)
        let peak = PeakMemory.peakBytes() ?? 0
        let out = try VipsImage.load(path: output, mode: .sequential)
        let decoded = out.width * out.height * out.bands
        if !keep { unlink(output) }
        let line: [String: Any] = ["input": [width, height], "output": [out.width, out.height], "tile": tile, "overlap": overlap,
                                   "seconds": seconds, "rss_before_bytes": before, "peak_rss_bytes": peak,
                                   "output_decoded_bytes": decoded]
        let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// A deterministic, textured RGB test image (gradients plus a pattern, so the network has work to do).
enum SyntheticImage {
    static func pixels(width: Int, rows: Range<Int>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * rows.count * 3)
        for (r, y) in rows.enumerated() {
            for x in 0..<width {
                let i = (r * width + x) * 3
                out[i] = UInt8(truncatingIfNeeded: x &* 255 / max(1, width - 1))
                out[i + 1] = UInt8(truncatingIfNeeded: y &* 255 / 3000)
                out[i + 2] = UInt8(truncatingIfNeeded: ((x / 7) ^ (y / 5)) &* 37)
            }
        }
        return out
    }

    /// Written before the measured phase (the input is small next to the ×4 output), then freed.
    static func write(width: Int, height: Int, to path: String) throws {
        try VipsImage(bytes: pixels(width: width, rows: 0..<height), width: width, height: height, bands: 3)
            .write(to: path, overwrite: true)
    }
}
