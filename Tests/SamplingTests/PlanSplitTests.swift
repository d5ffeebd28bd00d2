import Foundation
import Sampling
import Tensor
import XCTest

/// The SDXL hand-off split against diffusers' denoising_end / denoising_start (Tests/Fixtures/sdxl: the
/// per-step timesteps each pipeline of the hand-off cases ran).
final class PlanSplitTests: XCTestCase {
    let config = SchedulerConfig()  // SDXL's shipped scheduler: scaled_linear, leading, steps_offset 1

    func plan(_ sampler: SamplerKind, _ steps: Int, strength: Double? = nil) throws -> SamplingPlan {
        try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: sampler, steps: steps, strength: strength)
    }

    func testFixtureHandoffTimesteps() throws {
        let cases = try FixtureFile("../sdxl/pipeline/cases.safetensors")
        for (name, sampler, steps, fraction) in [("handoff_euler_08", SamplerKind.euler, 10, 0.8),
                                                  ("handoff_ddim_05", .ddim, 8, 0.5)] {
            let split = try plan(sampler, steps).split(switchAt: fraction)
            XCTAssertEqual(split.base.timesteps, try cases.doubles("\(name).timesteps"), name)
            XCTAssertEqual(split.refiner.timesteps, try cases.doubles("\(name).refiner_timesteps"), name)
        }
    }

    /// Timesteps diffusers' pipelines run for DPM++ 2M Karras (DPMSolverMultistepScheduler, use_karras_sigmas) and
    /// Heun (HeunDiscreteScheduler; distinct timesteps of its interleaved list) with SDXL's scheduler config,
    /// printed from diffusers 0.42.1 with the pipelines' denoising_end / denoising_start rule.
    func testDiffusersTimestepsOfMultistepAndSecondOrderSamplers() throws {
        let dpm = try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: .dpmpp2m, schedule: .karras, steps: 10)
            .split(switchAt: 0.8)
        XCTAssertEqual(dpm.base.timesteps, [999, 916, 815, 687, 523, 327])
        XCTAssertEqual(dpm.refiner.timesteps, [146, 41, 7, 0])
        // Heun 20 steps at 0.8: base t0 .. 201 (its last step only the first-order half), refiner from 201.
        let heun = try plan(.heun, 20).split(switchAt: 0.8)
        XCTAssertEqual(heun.base.timesteps, stride(from: 951.0, through: 201, by: -50).map { $0 })
        XCTAssertEqual(heun.refiner.timesteps, [201, 151, 101, 51, 1])
    }

    func testCutoffIsDiffusersRule() throws {
        XCTAssertEqual(try SamplingPlan.handoffCutoff(switchAt: 0.8, trainTimesteps: 1000), 200)
        XCTAssertEqual(try SamplingPlan.handoffCutoff(switchAt: 0.5, trainTimesteps: 1000), 500)
        // int(round(1000 - 0.0005 * 1000)) = round(999.5) = 1000 (half to even).
        XCTAssertEqual(try SamplingPlan.handoffCutoff(switchAt: 0.0005, trainTimesteps: 1000), 1000)
        for bad in [0.0, 1.0, -0.1, 1.5, .nan, .infinity] {
            XCTAssertThrowsError(try plan(.euler, 10).split(switchAt: bad)) {
                guard case .invalidSwitch? = $0 as? SamplingError else { return XCTFail("\(bad): \($0)") }
            }
        }
    }

    func testPartsTileTheSchedule() throws {
        for sampler in SamplerKind.allCases where sampler != .heun && sampler != .lcm {
            let full = try plan(sampler, 10)
            let split = try full.split(switchAt: 0.8)
            XCTAssertEqual(split.base.timesteps + split.refiner.timesteps, full.timesteps, "\(sampler)")
            XCTAssertEqual(split.base.sigmas.last, split.refiner.sigmas.first, "\(sampler)")
            XCTAssertEqual(split.refiner.sigmas.last, full.sigmas.last, "\(sampler)")
            XCTAssertEqual(split.refiner.startIndex, split.base.steps, "\(sampler)")
            XCTAssertEqual(split.refiner.outputScale, full.outputScale, "\(sampler)")
            XCTAssertEqual(split.refiner.fullSigmas, full.fullSigmas, "\(sampler)")
        }
    }

    /// DDIM (VP in diffusers) leaves the base with the VP latent at the cutoff's sigma: diffusers' hand-off latents.
    func testVPBaseLeavesWithItsLastSigma() throws {
        let split = try plan(.ddim, 8).split(switchAt: 0.5)
        let s = split.base.sigmas[split.base.sigmas.count - 1]
        XCTAssertEqual(split.base.outputScale, 1 / (s * s + 1).squareRoot())
        XCTAssertEqual(split.base.leavingVE.outputScale, 1)
        XCTAssertEqual(try plan(.euler, 10).split(switchAt: 0.8).base.outputScale, 1)
    }

    /// diffusers' Heun lists t0, t1, t1, t2, t2, ...: the base stops after the first-order half of the crossing
    /// step and the refiner (order 2, even count + 1) redoes that step.
    func testHeunRefinerRedoesTheCrossingStep() throws {
        let full = try plan(.heun, 10)
        let split = try full.split(switchAt: 0.8)
        XCTAssertEqual(split.base.timesteps, Array(full.timesteps.prefix(8)))
        XCTAssertEqual(split.refiner.timesteps, Array(full.timesteps.suffix(3)))
        XCTAssertEqual(split.refiner.startIndex, 7)
    }

    /// img2img: diffusers' refiner ignores strength and takes the full schedule's tail, which is the tail of the
    /// strength-cut plan whenever the strength cut starts above the cutoff.
    func testImg2ImgStrengthWithSwitch() throws {
        let cut = try plan(.euler, 10, strength: 0.6)
        XCTAssertEqual(cut.timesteps, [501, 401, 301, 201, 101, 1])
        let split = try cut.split(switchAt: 0.8)
        XCTAssertEqual(split.base.timesteps, [501, 401, 301, 201])
        let diffusersRefiner = try plan(.euler, 10).split(switchAt: 0.8).refiner
        XCTAssertEqual(split.refiner.timesteps, diffusersRefiner.timesteps)
        XCTAssertEqual(split.refiner.sigmas, diffusersRefiner.sigmas)
        XCTAssertEqual(split.refiner.startIndex, diffusersRefiner.startIndex)
        // A strength cut below the cutoff leaves the base nothing; the refiner runs the whole cut plan.
        let low = try plan(.euler, 10, strength: 0.1).split(switchAt: 0.8)
        XCTAssertEqual(low.base.steps, 0)
        XCTAssertEqual(low.refiner.timesteps, [1])
    }

    /// Running the parts one after the other (VE between them) equals the unsplit run bit for bit for the
    /// samplers that carry no state across steps.
    func testSplitRunEqualsUnsplitForStatelessSamplers() throws {
        let denoise: DenoiseFunction = { x, point in x * Float(1 / (1 + point.sigma * 0.01)) }
        for sampler in [SamplerKind.euler, .ddim, .eulerAncestral] {
            for fraction in [0.3, 0.5, 0.8] {
                let full = try plan(sampler, 10)
                let split = try full.split(switchAt: fraction)
                let start = Sampler.initialLatent(plan: full, shape: [1, 4, 4, 4], noise: RNGKind.cpu.makeNoise(seeds: [7]))
                let whole = try Sampler.sample(plan: full, x: start, noise: RNGKind.cpu.makeNoise(seeds: [8]), denoise: denoise)
                let noise = RNGKind.cpu.makeNoise(seeds: [8])
                let handed = try Sampler.sample(plan: split.base.leavingVE, x: start, noise: noise, denoise: denoise)
                let parts = try Sampler.sample(plan: split.refiner, x: handed, noise: noise, denoise: denoise)
                XCTAssertEqual(parts.scalars, whole.scalars, "\(sampler) at \(fraction)")
            }
        }
    }

    /// A toy eps model (0.1 x_in + 0.0005 t) run through diffusers' own scheduler protocol for a hand-off (0.8 of 10
    /// steps; DDIM 0.5 of 8, handing on the VP latent): the base scheduler up to denoising_end, then a fresh scheduler from denoising_start
    /// (get_timesteps' rule with the order-2 +1, set_begin_index), the latents handed on as they are. Checks that
    /// each part restarts its sampler state as diffusers does: DPM++ 2M's history, LMS's derivatives at their
    /// absolute index, Heun redoing the crossing step. Expected values printed by
    /// scripts/fixtures/handoff_toy_reference.py (diffusers 0.42.1, torch float32).
    func testToyModelHandoffEqualsDiffusersSchedulers() throws {
        let expected: [(SamplerKind, SigmaScheduleKind, Int, Double, [Float])] = [
            (.euler, .normal, 10, 0.8, [-9.09515285, -7.21765184, -5.3401494, -3.46264815, -1.58514786, 0.2923536, 2.16985464, 4.04735613]),
            (.heun, .normal, 10, 0.8, [-8.44024563, -6.66293764, -4.88563156, -3.10832453, -1.33101833, 0.446288168, 2.2235949, 4.00090122]),
            (.lms, .normal, 10, 0.8, [-8.43467045, -6.68274784, -4.93082619, -3.17890596, -1.42698586, 0.324934721, 2.07685614, 3.82877564]),
            (.ddim, .normal, 8, 0.5, [-8.09797192, -6.41291666, -4.7278595, -3.04280329, -1.35774744, 0.327308625, 2.01236534, 3.69742155]),
            (.dpmpp2m, .karras, 10, 0.8, [-14.9314299, -11.9405651, -8.94970322, -5.95883703, -2.96797419, 0.0228882506, 3.01375103, 6.00461292]),
        ]
        let values = Tensor(shape: [1, 2, 2, 2], values: (0..<8).map { -1 + Float($0) * 2 / 7 })
        for (sampler, schedule, steps, fraction, reference) in expected {
            let full = try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: sampler, schedule: schedule, steps: steps)
            let split = try full.split(switchAt: fraction)
            let denoise = ModelDenoiser(parameterization: Parameterization(config.predictionType)) { x, t in
                x * Float(0.1) + Tensor(shape: x.shape, repeating: Float(0.0005 * t))
            }.function
            let noise = RNGKind.cpu.makeNoise(seeds: [0])
            let handed = try Sampler.sample(plan: split.base.leavingVE, x: values * Float(full.initialNoiseScale), noise: noise,
                                            denoise: denoise)
            let result = try Sampler.sample(plan: split.refiner, x: handed, noise: noise, denoise: denoise).scalars
            let scale = reference.map(abs).max() ?? 1
            let error = zip(result, reference).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(error, 1e-5 * scale, "\(sampler): \(result)")
        }
    }
}
