import Engine
import Foundation
import Models
import Sampling
import Tensor
import XCTest

/// Soft inpainting on a real (tiny) model: exact relations to the hard blend that must hold whatever the weights.
final class SoftBlendModelTests: XCTestCase {
    func request(seed: UInt64) throws -> GenerationRequest {
        var r = GenerationRequest(prompt: "a stone bridge")
        r.sampler = try SamplerChoice.parse(sampler: "euler", scheduler: "normal")
        r.steps = 4
        r.cfgScale = 7.5
        r.seed = seed
        r.width = 16
        r.height = 16
        r.strength = 0.75
        r.initImage = Tensor(shape: [1, 3, 16, 16], values: (0 ..< 768).map { Float(($0 * 37) % 200) / 100 - 1 })
        return r
    }

    func testSoftEqualsHardForABinaryMaskOnAFourChannelModel() throws {
        let model = try LoadedModel.load(name: "sd1", path: ModelPluginTests.sd.appendingPathComponent("sd1/diffusers").path)
        // A binary mask: every repaint pixel (level 1) is released from the first step and keep pixels (0) never,
        // so the soft schedule is exactly the hard blend.
        var values = [Float](repeating: 0, count: 256)
        for y in 4 ..< 12 { for x in 2 ..< 10 { values[y * 16 + x] = 1 } }
        let mask = Tensor(shape: [1, 1, 16, 16], values: values)
        let pipeline = InpaintPipeline(model: model)
        let hard = try pipeline.run(try request(seed: 3), mask: mask, blend: .hard)
        let soft = try pipeline.run(try request(seed: 3), mask: mask, blend: .soft)
        XCTAssertEqual(hard.latents.scalars, soft.latents.scalars, "bit-identical latents")
    }

    func testSoftHoldsGreyPixelsLongerThanHardMixes() throws {
        let model = try LoadedModel.load(name: "sd1", path: ModelPluginTests.sd.appendingPathComponent("sd1/diffusers").path)
        // Level 0.3 everywhere: with N = 3 steps (4 × 0.75) soft holds it on the re-noised original after steps 1
        // and 2 (thresholds 2/3, 1/3) and releases it only at the last step (threshold 0); hard mixes 30 % of the
        // model's latent in at every step. The final latents therefore differ.
        let mask = Tensor(shape: [1, 1, 16, 16], values: [Float](repeating: 0.3, count: 256))
        var steps: [Tensor] = []
        let hooks = StableDiffusionPipeline.Hooks(blend: { x, _ in steps.append(x); return x })
        let soft = try InpaintPipeline(model: model).run(try request(seed: 4), mask: mask, blend: .soft, hooks: hooks)
        let hard = try InpaintPipeline(model: model).run(try request(seed: 4), mask: mask, blend: .hard)
        XCTAssertEqual(steps.count, 3, "the caller's blend hook runs after the inpaint blend, once per step")
        XCTAssertNotEqual(soft.latents.scalars, hard.latents.scalars)
    }
}
