import Foundation
import Imaging
import Models
import Tensor
import Weights
import XCTest

/// Paths of the committed fixtures (Tests/Fixtures/upscale, made by scripts/fixtures/make_upscale_fixtures.py)
/// and of the real models ./scripts/setup.sh installs (models/realesrgan).
enum UpscaleFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let fixtures = repoRoot + "/Tests/Fixtures/upscale"
    static let models = repoRoot + "/models"

    static func modelPath(_ name: String) throws -> String {
        let path = "\(models)/realesrgan/\(name).param"
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("missing \(path): run ./scripts/setup.sh (it unpacks the Real-ESRGAN ncnn models)")
            throw CocoaError(.fileNoSuchFile)
        }
        return path
    }

    static func model(_ name: String) throws -> UpscalerModel {
        try UpscalerModel.load(path: try modelPath(name))
    }

    static func reference(_ key: String) throws -> Tensor {
        try SafeTensorsFile(path: fixtures + "/reference.safetensors").tensor(key)
    }

    /// An 8-bit RGB fixture PNG (or, with `absolute`, any PNG) as a [1, 3, H, W] tensor in [0, 1] (float32(v) /
    /// 255, as the reference script).
    static func photo(_ name: String, absolute: Bool = false) throws -> Tensor {
        let image = try VipsImage.load(path: absolute ? name : fixtures + "/" + name)
        let bytes = try image.bytes()
        let (w, h) = (image.width, image.height)
        var values = [Float](repeating: 0, count: 3 * w * h)
        for i in 0..<(w * h) { for c in 0..<3 { values[c * w * h + i] = Float(bytes[i * image.bands + c]) / 255 } }
        return Tensor(shape: [1, 3, h, w], values: values)
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "upscale-tests-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Error statistics between two same-shaped tensors, in 8-bit levels (values × 255).
struct Difference {
    let meanAbs: Double
    let maxAbs: Double

    init(_ a: Tensor, _ b: Tensor, clamp: Bool = false) {
        precondition(a.shape == b.shape, "\(a.shape) vs \(b.shape)")
        let (x, y) = (a.scalars, b.scalars)
        var sum = 0.0, worst = 0.0
        for i in 0..<x.count {
            var u = Double(x[i]), v = Double(y[i])
            if clamp { u = min(max(u, 0), 1); v = min(max(v, 0), 1) }
            let d = abs(u - v) * 255
            sum += d
            worst = max(worst, d)
        }
        meanAbs = sum / Double(x.count)
        maxAbs = worst
    }
}

/// PSNR in dB of 8-bit-scale samples against a reference (peak 255).
func psnr(_ samples: [Float], _ reference: [Float]) -> Double {
    precondition(samples.count == reference.count)
    var mse = 0.0
    for i in 0..<samples.count { let d = Double(samples[i]) - Double(reference[i]); mse += d * d }
    mse /= Double(samples.count)
    return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
}

/// Planar [1, 3, H, W] network output -> interleaved 8-bit-scale RGB samples, clamped like the pipeline.
func interleaved255(_ t: Tensor) -> [Float] {
    let (h, w) = (t.shape[2], t.shape[3])
    let v = t.scalars
    var out = [Float](repeating: 0, count: 3 * h * w)
    for i in 0..<(h * w) { for c in 0..<3 { out[i * 3 + c] = min(max(v[c * h * w + i], 0), 1) * 255 } }
    return out
}
