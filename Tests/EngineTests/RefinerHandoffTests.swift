import Engine
import Foundation
import Models
import Sampling
import Tensor
import XCTest

/// The stage machinery of the refiner hand-off on the SD1 tiny model: a split run whose two stages are the same
/// model must equal the unsplit run bit for bit for samplers without cross-step state (the latents are handed
/// on exactly, the step indices, blends and noise continue), and progress and cancellation span both stages.
final class RefinerHandoffTests: XCTestCase {
    private func request(_ sampler: String, steps: Int = 6) throws -> GenerationRequest {
        var request = GenerationRequest(prompt: "a red fox in the snow")
        request.negativePrompt = "blurry"
        request.sampler = try SamplerChoice.parse(sampler: sampler)
        request.steps = steps
        request.width = 32
        request.height = 32
        request.seed = 11
        request.batchSize = 2
        return request
    }

    private func image(seed: UInt64) -> Tensor {
        RNGKind.cpu.makeNoise(seeds: [seed]).randn([1, 3, 32, 32]) * Float(0.5)
    }

    func testSameModelSplitEqualsUnsplitTxt2Img() throws {
        let model = try PipelineParityTests.model("sd1")
        let pipeline = StableDiffusionPipeline(model: model)
        for sampler in ["euler", "ddim", "euler_a"] {
            let request = try request(sampler)
            let whole = try pipeline.run(request)
            for fraction in [0.5, 0.8] {
                let split = try pipeline.run(request, refiner: RefinerHandoff(model: model, switchAt: fraction))
                XCTAssertEqual(split.latents.scalars, whole.latents.scalars, "\(sampler) at \(fraction)")
                XCTAssertEqual(split.decoded.scalars, whole.decoded.scalars, "\(sampler) at \(fraction)")
            }
        }
    }

    func testSameModelSplitEqualsUnsplitImg2Img() throws {
        let model = try PipelineParityTests.model("sd1")
        let pipeline = StableDiffusionPipeline(model: model)
        var request = try request("euler", steps: 10)
        request.initImage = image(seed: 3)
        request.strength = 0.6
        let whole = try pipeline.run(request)
        let split = try pipeline.run(request, refiner: RefinerHandoff(model: model, switchAt: 0.8))
        XCTAssertEqual(try pipeline.stages(for: request, refiner: RefinerHandoff(model: model, switchAt: 0.8))
            .map(\.plan.steps), [4, 2])
        XCTAssertEqual(split.latents.scalars, whole.latents.scalars)
    }

    /// A 4-channel inpaint blends the known region after every step: the refiner stage must blend at the whole
    /// plan's step index.
    func testSameModelSplitEqualsUnsplitInpaint() throws {
        let model = try PipelineParityTests.model("sd1")
        let pipeline = InpaintPipeline(model: model)
        for sampler in ["euler", "ddim"] {
            var request = try request(sampler, steps: 8)
            request.initImage = image(seed: 5)
            request.strength = 0.75
            var mask = Tensor(shape: [1, 1, 32, 32])
            mask.withUnsafeMutableBufferPointer { p in for i in p.indices where (i % 32) >= 16 { p[i] = 1 } }
            let whole = try pipeline.run(request, mask: mask)
            let split = try pipeline.run(request, mask: mask, refiner: RefinerHandoff(model: model, switchAt: 0.5))
            XCTAssertEqual(split.latents.scalars, whole.latents.scalars, sampler)
        }
    }

    /// Progress runs 1...total over both stages; Heun's refiner redoes the crossing step, so it counts one more.
    func testProgressCountsBothStages() throws {
        let model = try PipelineParityTests.model("sd1")
        let pipeline = StableDiffusionPipeline(model: model)
        for (sampler, total) in [("euler", 6), ("heun", 7)] {
            var seen: [[Int]] = []
            let hooks = StableDiffusionPipeline.Hooks(onStep: { seen.append([$0.step, $0.steps]) })
            var request = try request(sampler)
            request.batchSize = 1
            _ = try pipeline.run(request, refiner: RefinerHandoff(model: model, switchAt: 0.5), hooks: hooks)
            XCTAssertEqual(seen, (1...total).map { [$0, total] }, sampler)
        }
    }

    func testCancellationInsideTheRefinerStage() throws {
        let model = try PipelineParityTests.model("sd1")
        let pipeline = StableDiffusionPipeline(model: model)
        var done = 0
        let hooks = StableDiffusionPipeline.Hooks(isCancelled: { done >= 4 }, onStep: { done = $0.step })
        var request = try request("euler")
        request.batchSize = 1
        // 0.5 of 6 leading steps (831 ... 1, cutoff 500): the base runs 2, the refiner 4; stop after 4 done.
        XCTAssertThrowsError(try pipeline.run(request, refiner: RefinerHandoff(model: model, switchAt: 0.5), hooks: hooks)) {
            XCTAssertEqual($0 as? EngineError, .cancelled(step: 4))
        }
    }

    /// A 9-channel SDXL inpainting base may hand off to the plain (4-channel) refiner: the base stage is
    /// conditioned on mask and masked image and does not blend; the refiner's stage keeps the known region on the
    /// re-noised original after every step, so the final latents there are the original's exactly (the last
    /// step's sigma is 0). A 4-channel refiner cannot take the 9-channel input, and an SD1 refiner is refused.
    func testNineChannelBaseHandsOffToPlainRefinerWhichBlends() throws {
        let root = SDXLConditioningFixtures.root
        let base = try LoadedModel.load(name: "xl-inpaint", path: root.appendingPathComponent("inpaint/diffusers").path)
        let refiner = try LoadedModel.load(name: "xl-refiner", path: root.appendingPathComponent("refiner/diffusers").path)
        XCTAssertEqual(base.networks.unet.config.inChannels, 9)
        XCTAssertEqual(refiner.networks.unet.config.inChannels, 4)
        let pipeline = InpaintPipeline(model: base)
        var request = try request("euler", steps: 8)
        request.batchSize = 1
        request.initImage = image(seed: 5)
        request.strength = 1  // the original's latents are then the posterior mean (no draw), which the test can recompute
        var mask = Tensor(shape: [1, 1, 32, 32])
        mask.withUnsafeMutableBufferPointer { p in for i in p.indices where (i % 32) >= 16 { p[i] = 1 } }

        let split = try pipeline.run(request, mask: mask, refiner: RefinerHandoff(model: refiner, switchAt: 0.5))
        let alone = try pipeline.run(request, mask: mask)
        let core = GenerationCore(model: base)
        let original = try core.posteriorMean(of: try XCTUnwrap(request.initImage), batch: 1) * base.networks.latentScale
        let factor = core.vaeScaleFactor
        let (h, w) = (32 / factor, 32 / factor)
        var knownEqual = 0, knownTotal = 0, aloneEqual = 0
        for c in 0 ..< 4 {
            for y in 0 ..< h {
                for x in 0 ..< w / 2 {  // the unmasked left half
                    let i = (c * h + y) * w + x
                    knownTotal += 1
                    if split.latents.scalars[i] == original.scalars[i] { knownEqual += 1 }
                    if alone.latents.scalars[i] == original.scalars[i] { aloneEqual += 1 }
                }
            }
        }
        XCTAssertEqual(knownEqual, knownTotal, "the refiner stage blends the known region")
        XCTAssertEqual(aloneEqual, 0, "the 9-channel base alone is conditioned, not blended")
        XCTAssertNotEqual(split.latents.scalars, alone.latents.scalars)
        XCTAssertTrue(split.latents.scalars.allSatisfy(\.isFinite))

        // The other way round is refused: a 4-channel base cannot hand its run to a 9-channel refiner.
        let plainBase = try LoadedModel.load(name: "xl", path: root.appendingPathComponent("base/diffusers").path)
        XCTAssertThrowsError(try InpaintPipeline(model: plainBase).run(request, mask: mask,
                                                                       refiner: RefinerHandoff(model: base, switchAt: 0.5))) {
            guard case .invalidParameter(let field, _)? = $0 as? EngineError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "refiner.model")
        }
    }

    func testRefinerValidation() throws {
        let model = try PipelineParityTests.model("sd1")
        let pipeline = StableDiffusionPipeline(model: model)
        let request = try request("euler")
        for bad in [0.0, 1.0, -1, .nan] {
            XCTAssertThrowsError(try pipeline.run(request, refiner: RefinerHandoff(model: model, switchAt: bad))) {
                guard case .invalidParameter(let field, _)? = $0 as? EngineError else { return XCTFail("\($0)") }
                XCTAssertEqual(field, "refiner.switch_at")
            }
        }
        let inpaint = try LoadedModel.load(name: "sd1-inpaint", path: PipelineFixtures.modelFolder("sd1-inpaint"))
        XCTAssertThrowsError(try pipeline.run(request, refiner: RefinerHandoff(model: inpaint, switchAt: 0.5))) {
            guard case .invalidParameter(let field, _)? = $0 as? EngineError else { return XCTFail("\($0)") }
            XCTAssertEqual(field, "refiner.model")
        }
    }
}
