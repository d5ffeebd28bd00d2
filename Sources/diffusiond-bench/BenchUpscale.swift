import ArgumentParser
import Engine
import Foundation
import StrictJSON
import Imaging
import Models
import Tensor

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
            let line: JSONValue = ["model": .string(name), "architecture": .string(model.architecture), "threads": JSONValue(threads),
                                   "input": [JSONValue(x.shape[3]), JSONValue(x.shape[2])], "output": [JSONValue(w), JSONValue(h)],
                                   "seconds": .double(best), "output_megapixels_per_second": .double(Double(w * h) / 1e6 / best)]
            print(JSONWriter.serialize(line))
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
