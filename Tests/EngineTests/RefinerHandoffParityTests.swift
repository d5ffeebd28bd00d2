import Engine
import Foundation
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// The SDXL hand-off cases of Tests/Fixtures/sdxl/pipeline (handoff_euler_08, handoff_ddim_05) end to end: the
/// base's part equals diffusers' hand-off latents, the refiner's result its latents and 8-bit image.
/// diffusers gives its refiner a generator of its own (`refiner_seed`); these samplers draw nothing after the
/// start, so the cases hold for our continuing generator too.
final class RefinerHandoffParityTests: XCTestCase {
    static let sdxl = PipelineFixtures.root.appendingPathComponent("sdxl")

    private func load(_ name: String) throws -> LoadedModel {
        try LoadedModel.load(name: name, path: Self.sdxl.appendingPathComponent("\(name)/diffusers").path)
    }

    func testHandoffCasesMatchDiffusers() throws {
        let base = try load("base"), refiner = try load("refiner")
        let refs = try SafeTensorsFile(path: Self.sdxl.appendingPathComponent("pipeline/cases.safetensors").path)
        let data = try Data(contentsOf: Self.sdxl.appendingPathComponent("pipeline/cases.json"))
        let cases = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
            .filter { $0["mode"] as? String == "handoff" }
        XCTAssertEqual(cases.count, 2)
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            var request = GenerationRequest(prompt: try XCTUnwrap(c["prompt"] as? String))
            request.negativePrompt = c["negative_prompt"] as? String ?? ""
            request.sampler = try SamplerChoice.parse(sampler: try XCTUnwrap(c["sampler"] as? String))
            request.steps = try XCTUnwrap(c["steps"] as? Int)
            request.cfgScale = try XCTUnwrap((c["cfg_scale"] as? NSNumber)?.doubleValue)
            request.seed = UInt64(try XCTUnwrap(c["seed"] as? Int))
            request.width = try XCTUnwrap(c["width"] as? Int)
            request.height = try XCTUnwrap(c["height"] as? Int)
            let handoff = RefinerHandoff(
                model: refiner, switchAt: try XCTUnwrap((c["switch"] as? NSNumber)?.doubleValue),
                aestheticScores: AestheticScores(positive: try XCTUnwrap((c["aesthetic_score"] as? NSNumber)?.doubleValue),
                                                 negative: try XCTUnwrap((c["negative_aesthetic_score"] as? NSNumber)?.doubleValue)))
            let pipeline = StableDiffusionPipeline(model: base)
            let stages = try pipeline.stages(for: request, refiner: handoff)
            XCTAssertEqual(stages.map(\.plan.timesteps.count),
                           [try refs.tensor("\(name).timesteps").count, try refs.tensor("\(name).refiner_timesteps").count], name)

            // The base's part alone leaves with diffusers' hand-off latents.
            let core = GenerationCore(model: base)
            let noise = request.rng.makeNoise(seeds: request.seeds)
            let start = GenerationStart(latents: Sampler.initialLatent(plan: stages[0].plan, shape: core.latentShape(for: request),
                                                                       noise: noise), noise: noise)
            let handed = try core.run(request, stages: [stages[0]], start: start, hooks: StableDiffusionPipeline.Hooks())
            try assertClose(handed.latents, try refs.tensor("\(name).handoff_latents"), "\(name) hand-off")

            let result = try pipeline.run(request, refiner: handoff)
            try assertClose(result.latents, try refs.tensor("\(name).latents"), name)
            let ours8 = PipelineParityTests.eightBitHWC(result.images)
            let pixelError = PipelineParityTests.maxAbsDiff(ours8, try refs.tensor("\(name).image8").scalars)
            XCTAssertLessThanOrEqual(pixelError, 1, "\(name): 8-bit max diff")
        }
    }

    private func assertClose(_ ours: Tensor, _ reference: Tensor, _ what: String) throws {
        XCTAssertEqual(ours.shape, reference.shape, what)
        let error = PipelineParityTests.maxAbsDiff(ours.scalars, reference.scalars)
        let scale = reference.scalars.map { abs($0) }.max() ?? 1
        XCTAssertLessThanOrEqual(error, 1e-4 * scale, "\(what): latent max diff (scale \(scale))")
    }
}
