import Engine
import Foundation
import Imaging
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// Inpainting end to end against diffusers' StableDiffusionInpaintPipeline (scripts/fixtures/make_inpaint_fixtures.py)
/// on the tiny random sd1-inpaint (9-channel) and sd1 (4-channel, latent blend) models, CPU generator seeds,
/// Euler and DDIM, strength 1 and < 1. Compared before our pixel-space paste, which diffusers does not do.
final class InpaintParityTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    struct Case: Decodable {
        let name, family, sampler, prompt: String
        let negative_prompt: String
        let steps: Int
        let cfg_scale, strength: Double
        let seed: UInt64
        let width, height: Int
        let image, mask: String
    }

    /// 8-bit HWC → [1, 3, H, W] in [-1, 1] as diffusers' VaeImageProcessor (x / 255 · 2 − 1 in float32).
    static func imageTensor(_ hwc: Tensor) -> Tensor {
        let (h, w) = (hwc.shape[0], hwc.shape[1])
        let v = hwc.scalars
        var out = [Float](repeating: 0, count: 3 * h * w)
        for y in 0 ..< h { for x in 0 ..< w { for c in 0 ..< 3 { out[(c * h + y) * w + x] = 2 * (v[(y * w + x) * 3 + c] / 255) - 1 } } }
        return Tensor(shape: [1, 3, h, w], values: out)
    }

    func testMatchesDiffusersInpaintPipeline() throws {
        let dir = Self.fixtures.appendingPathComponent("inpaint")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: dir.appendingPathComponent("cases.json")))
        XCTAssertEqual(cases.count, 6, "fixture cases missing")
        let refs = try SafeTensorsFile(path: dir.appendingPathComponent("cases.safetensors").path)
        var models: [String: LoadedModel] = [:]
        var failures: [String] = []
        for c in cases {
            let model = try models[c.family] ?? LoadedModel.load(
                name: c.family, path: Self.fixtures.appendingPathComponent("sd/\(c.family)/diffusers").path)
            models[c.family] = model
            var request = GenerationRequest(prompt: c.prompt)
            request.negativePrompt = c.negative_prompt
            request.sampler = try SamplerChoice.parse(sampler: c.sampler, scheduler: "normal")
            request.steps = c.steps
            request.cfgScale = c.cfg_scale
            request.seed = c.seed
            request.width = c.width
            request.height = c.height
            request.strength = c.strength
            request.initImage = Self.imageTensor(try refs.tensor(c.image))
            // The mask as diffusers reads it: 8-bit grey / 255 (binarised inside the pipeline).
            let mask = try refs.tensor(c.mask)
            let pixelMask = Tensor(shape: [1, 1, c.height, c.width], values: mask.scalars.map { $0 / 255 })
            let pipeline = InpaintPipeline(model: model)
            XCTAssertEqual(pipeline.isNineChannel, c.family == "sd1-inpaint", c.name)
            let result = try pipeline.run(request, mask: pixelMask)

            // Latents: max |ours − diffusers| ≤ 1e-4 · max |diffusers| (float32 error of the whole run).
            let refLatents = try refs.tensor("\(c.name).latents")
            XCTAssertEqual(result.latents.shape, refLatents.shape, c.name)
            let latentError = zip(result.latents.scalars, refLatents.scalars).map { abs($0 - $1) }.max() ?? .infinity
            let scale = refLatents.scalars.map { abs($0) }.max() ?? 1
            if latentError > 1e-4 * scale { failures.append("\(c.name): latent max diff \(latentError) (scale \(scale))") }

            // 8-bit image (unpasted): every sample within 1 level of diffusers' round(image · 255).
            let ref8 = try refs.tensor("\(c.name).image8").scalars
            let img = result.images
            let (h, w) = (c.height, c.width)
            var worst: Float = 0
            for y in 0 ..< h { for x in 0 ..< w { for ch in 0 ..< 3 {
                let ours = (img.scalars[(ch * h + y) * w + x] * 255).rounded()
                worst = max(worst, abs(ours - ref8[(y * w + x) * 3 + ch]))
            } } }
            if worst > 1 { failures.append("\(c.name): 8-bit max diff \(worst)") }
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }
}
