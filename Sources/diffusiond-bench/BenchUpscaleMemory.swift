import ArgumentParser
import Engine
import Foundation
import StrictJSON
import Imaging
import Models
import Tensor

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
        let line: JSONValue = ["input": [JSONValue(width), JSONValue(height)], "output": [JSONValue(out.width), JSONValue(out.height)],
                               "tile": JSONValue(tile), "overlap": JSONValue(overlap), "seconds": .double(seconds),
                               "rss_before_bytes": JSONValue(before), "peak_rss_bytes": JSONValue(peak),
                               "output_decoded_bytes": JSONValue(decoded)]
        print(JSONWriter.serialize(line))
    }
}
