import Engine
import Foundation
import Models
import Sampling
import Tensor
import XCTest

/// ControlNets with the SDXL refiner hand-off steer the base's steps only: the refiner's UNet is not the one a
/// ControlNet copies, so its stage runs without them (as A1111/Forge and ComfyUI do).
final class ControlNetRefinerTests: XCTestCase {
    private func request() -> GenerationRequest {
        var request = GenerationRequest(prompt: "a red fox in the snow")
        request.negativePrompt = "blurry"
        request.steps = 4
        request.width = 32
        request.height = 32
        request.seed = 5
        return request
    }

    func testControlSteersTheBaseStagesOnly() throws {
        let base = try ControlNetParityTests.model("sdxl")
        let refiner = try LoadedModel.load(
            name: "refiner", path: PipelineFixtures.root.appendingPathComponent("sdxl/refiner/diffusers").path)
        let pipeline = StableDiffusionPipeline(model: base)
        let handoff = RefinerHandoff(model: refiner, switchAt: 0.5)
        let plain = try pipeline.run(request(), refiner: handoff)

        var steered = request()
        steered.controls = [try ControlNetInputTests.input("sdxl-a")]
        let withControl = try pipeline.run(steered, refiner: handoff)
        XCTAssertEqual(try pipeline.stages(for: steered, refiner: handoff).map(\.plan.steps), [2, 2])
        XCTAssertNotEqual(withControl.latents.scalars, plain.latents.scalars, "the control acts in the base's steps")

        // Active only in steps 2 and 3 of 4 (the refiner's): the run equals the hand-off without control.
        var late = request()
        late.controls = [try ControlNetInputTests.input("sdxl-a", start: 0.5, end: 1)]
        let lateRun = try pipeline.run(late, refiner: handoff)
        XCTAssertEqual(lateRun.latents.scalars, plain.latents.scalars)

        // start/end are fractions of the whole run's 4 steps, not of the base's 2: ending at 0.5 keeps both base
        // steps, so it equals the control over the whole run (which the refiner's steps ignore).
        var early = request()
        early.controls = [try ControlNetInputTests.input("sdxl-a", start: 0, end: 0.5)]
        XCTAssertEqual(try pipeline.run(early, refiner: handoff).latents.scalars, withControl.latents.scalars)

        // Without the refiner the same late control does act: the equality above is the refiner stage ignoring it.
        let lateAlone = try pipeline.run(late)
        let plainAlone = try pipeline.run(request())
        XCTAssertNotEqual(lateAlone.latents.scalars, plainAlone.latents.scalars)
    }
}
