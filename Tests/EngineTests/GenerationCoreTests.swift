import Engine
import Foundation
import Models
import Sampling
import Tensor
import XCTest

/// The generation core's seams: the conditioner, and UNet input extensions seeing the CFG batch layout.
final class GenerationCoreTests: XCTestCase {
    /// Records every step it sees and changes nothing.
    final class Probe: UNetInputExtension {
        var layouts: [GuidanceBatchLayout] = []
        var batchSizes: [Int] = []

        func extend(_ input: inout UNetStepInput, layout: GuidanceBatchLayout) throws {
            layouts.append(layout)
            batchSizes.append(input.latents.shape[0])
        }
    }

    private func request() throws -> GenerationRequest {
        var request = GenerationRequest(prompt: "a (red:1.2) fox")
        request.negativePrompt = "blurry"
        request.sampler = try SamplerChoice.parse(sampler: "Euler a")
        request.steps = 3
        request.width = 32
        request.height = 32
        request.seed = 7
        request.batchSize = 2
        return request
    }

    /// The core driven directly, with a pass-through extension, is the txt2img pipeline bit for bit, and the
    /// extension sees the guidance batch: 2 × images rows, once per UNet call.
    func testCoreWithPassThroughExtensionEqualsPipeline() throws {
        let model = try PipelineParityTests.model("sd1")
        let request = try request()
        let pipeline = StableDiffusionPipeline(model: model)
        let expected = try pipeline.run(request)

        let core = GenerationCore(model: model)
        try core.validate(request)
        let plan = try core.plan(for: request, strength: nil)
        let noise = request.rng.makeNoise(seeds: request.seeds)
        let probe = Probe()
        let start = GenerationStart(latents: Sampler.initialLatent(plan: plan, shape: core.latentShape(for: request), noise: noise),
                                    noise: noise, extensions: [probe])
        let result = try core.run(request, plan: plan, start: start, hooks: StableDiffusionPipeline.Hooks())
        XCTAssertEqual(result.latents.scalars, expected.latents.scalars)
        XCTAssertEqual(result.decoded.scalars, expected.decoded.scalars)
        XCTAssertEqual(probe.layouts, Array(repeating: GuidanceBatchLayout(images: 2, hasUnconditional: true), count: 3))
        XCTAssertEqual(probe.batchSizes, [4, 4, 4])
    }

    /// SD 1.x/2.x conditioning: [uncond × N, cond × N] of the prompt encoder's pair, no pooled output; without
    /// the unconditional pass only the conditional rows.
    func testSingleCLIPConditionerLayout() throws {
        let model = try PipelineParityTests.model("sd1")
        let conditioner = model.conditioner
        XCTAssertEqual(conditioner.clipSkipRange, 1...model.networks.textEncoder.layersToRun)
        let pair = try PromptEncoder(model: model).encodePair(prompt: "a fox", negative: "blurry", clipSkip: 1)
        let guided = try conditioner.conditioning(for: ConditioningRequest(
            prompt: "a fox", negativePrompt: "blurry", clipSkip: 1, batch: 2, withUnconditional: true))
        XCTAssertEqual(guided.context.shape, [4, 77, 32])
        XCTAssertEqual(guided.context.scalars, (pair.uncond.scalars + pair.uncond.scalars) + (pair.cond.scalars + pair.cond.scalars))
        XCTAssertNil(guided.pooled)
        XCTAssertNil(guided.unetConditioning.added)
        let plain = try conditioner.conditioning(for: ConditioningRequest(
            prompt: "a fox", negativePrompt: "blurry", clipSkip: 1, batch: 1, withUnconditional: false))
        XCTAssertEqual(plain.context.scalars, pair.cond.scalars)
    }

    /// SDXL's selection: raw states one layer below the clip skip, and the first chunk's pooled output.
    func testPromptEncoderRawStatesAndPooled() throws {
        let model = try PipelineParityTests.model("sd1")
        let layers = model.networks.textEncoder.layersToRun
        let encoder = PromptEncoder(encoder: model.networks.textEncoder, tokenizer: model.tokenizer, states: .rawBelowClipSkip)
        let prompt = Array(repeating: "a", count: 100).joined(separator: " ")
        let encoding = try encoder.encoding(prompt, clipSkip: 1, pooled: true)
        let chunks = PromptChunker(tokenizer: model.tokenizer).chunks(prompt)
        XCTAssertEqual(encoding.states.shape, [1, 154, 32])
        let first = try model.networks.textEncoder.encode(ids: [chunks[0].ids], states: .raw(layer: layers - 1), pooled: true)
        XCTAssertEqual(Array(encoding.states.scalars[0..<(77 * 32)]), first.states.scalars)
        XCTAssertEqual(encoding.pooled?.scalars, first.pooled?.scalars)
        XCTAssertEqual(encoding.pooled?.shape, [1, 32], "the SD1 fixture has no projection: pooled stays hidden-sized")
    }
}
