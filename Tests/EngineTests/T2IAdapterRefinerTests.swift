import Engine
import Foundation
import Models
import Sampling
import Tensor
import XCTest

/// T2I-Adapters with the SDXL refiner hand-off: the features were checked against the base's UNet and steer its
/// steps; the refiner (another UNet) runs without them. `factor` counts the whole run's steps.
final class T2IAdapterRefinerTests: XCTestCase {
    private func request() -> GenerationRequest {
        var request = GenerationRequest(prompt: "a red fox in the snow")
        request.negativePrompt = "blurry"
        request.steps = 4
        request.width = 32
        request.height = 32
        request.seed = 9
        return request
    }

    private func adapter(factor: Double) throws -> T2IAdapterControl {
        let adapter = try T2IAdapterFiles.load(path: T2IAdapterParityTests.root.appendingPathComponent("xl-full").path)
        return T2IAdapterControl(name: "xl-full", adapter: adapter, image: try T2IAdapterParityTests.picture(grey: false),
                                 factor: factor)
    }

    func testAdaptersSteerTheBaseStagesOnly() throws {
        let base = try LoadedModel.load(name: "xl", path: PipelineFixtures.root.appendingPathComponent("sdxl/base/diffusers").path)
        let refiner = try LoadedModel.load(
            name: "refiner", path: PipelineFixtures.root.appendingPathComponent("sdxl/refiner/diffusers").path)
        XCTAssertNotEqual(base.networks.unet.config, refiner.networks.unet.config)
        let pipeline = StableDiffusionPipeline(model: base)
        let handoff = RefinerHandoff(model: refiner, switchAt: 0.5)
        let plain = try pipeline.run(request(), refiner: handoff)

        var steered = request()
        steered.adapters = [try adapter(factor: 1)]
        let withAdapter = try pipeline.run(steered, refiner: handoff)
        XCTAssertNotEqual(withAdapter.latents.scalars, plain.latents.scalars, "the adapter acts in the base's steps")

        // factor 0.5 of the run's 4 steps keeps steps 0 and 1, the base's two: the same run as factor 1, whose
        // refiner steps go without the adapter anyway.
        var half = request()
        half.adapters = [try adapter(factor: 0.5)]
        XCTAssertEqual(try pipeline.run(half, refiner: handoff).latents.scalars, withAdapter.latents.scalars)

        // factor 0.25 keeps step 0 only: another run.
        var quarter = request()
        quarter.adapters = [try adapter(factor: 0.25)]
        let quarterRun = try pipeline.run(quarter, refiner: handoff)
        XCTAssertNotEqual(quarterRun.latents.scalars, withAdapter.latents.scalars)
        XCTAssertNotEqual(quarterRun.latents.scalars, plain.latents.scalars)

        // Without the refiner the steps after the switch do take the adapter: the equality above is the refiner
        // stage ignoring it.
        XCTAssertNotEqual(try pipeline.run(half).latents.scalars, try pipeline.run(steered).latents.scalars)
    }
}
