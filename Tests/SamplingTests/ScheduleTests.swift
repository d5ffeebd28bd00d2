import Foundation
import XCTest
@testable import Sampling

final class ScheduleTests: XCTestCase {
    let sd1 = SchedulerConfig()  // SD 1.x: scaled_linear 0.00085..0.012, leading, offset 1
    let linear = SchedulerConfig(betaStart: 0.0001, betaEnd: 0.02, betaSchedule: .linear,
                                 timestepSpacing: .linspace, stepsOffset: 0)

    /// ComfyUI's sgm_uniform and simple (fixture re-states ComfyUI's formulas in torch).
    /// Tolerance: 2e-6 relative per sigma (float32 log/exp in the reference vs double here,
    /// then rounded to float32).
    func testComfySchedulesMatchReference() throws {
        let f = try FixtureFile("sampling_extras.safetensors")
        for (name, config) in [("sd1", sd1), ("linear", linear)] {
            for kind in [SigmaScheduleKind.sgmUniform, .simple] {
                for steps in [1, 7, 20] {
                    let want = try f.doubles("comfy_\(kind.rawValue)_\(name)_\(steps)")
                    let plan = try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: .euler,
                                                schedule: kind, steps: steps)
                    XCTAssertEqual(plan.sigmas.count, want.count)
                    for (g, w) in zip(plan.sigmas, want) {
                        XCTAssertEqual(g, w, accuracy: 2e-6 * max(w, 1e-3), "\(kind) \(name) \(steps)")
                    }
                }
            }
        }
    }

    /// diffusers' img2img: steps 20, strength 0.5 runs the last 10 of the 20-step schedule.
    func testStrengthCutsLikeDiffusers() throws {
        let schedule = try NoiseSchedule(config: sd1)
        let full = try SamplingPlan(noiseSchedule: schedule, sampler: .euler, steps: 20)
        let half = try SamplingPlan(noiseSchedule: schedule, sampler: .euler, steps: 20, strength: 0.5)
        XCTAssertEqual(half.steps, 10)
        XCTAssertEqual(half.startIndex, 10)
        XCTAssertEqual(half.timesteps, Array(full.timesteps.suffix(10)))
        XCTAssertEqual(half.sigmas, Array(full.sigmas.suffix(11)))
        // int(20 * 0.33) = 6 steps; strength 1 keeps all.
        XCTAssertEqual(try SamplingPlan(noiseSchedule: schedule, sampler: .ddim, steps: 20, strength: 0.33).steps, 6)
        XCTAssertEqual(try SamplingPlan(noiseSchedule: schedule, sampler: .dpmpp2m, steps: 20, strength: 1).steps, 20)
        // Leading spacing, offset 1: 20 steps are 951, 901, ..., 1.
        XCTAssertEqual(full.timesteps.first, 951)
        XCTAssertEqual(full.timesteps.last, 1)
        XCTAssertEqual(full.sigmas.last, 0)
    }

    func testInvalidRequestsThrow() throws {
        let schedule = try NoiseSchedule(config: sd1)
        XCTAssertThrowsError(try SamplingPlan(noiseSchedule: schedule, sampler: .euler, steps: 0)) {
            XCTAssertEqual($0 as? SamplingError, .invalidSteps(0))
        }
        XCTAssertThrowsError(try SamplingPlan(noiseSchedule: schedule, sampler: .ddim, steps: 1001))
        XCTAssertNoThrow(try SamplingPlan(noiseSchedule: schedule, sampler: .ddim, steps: 1000))
        XCTAssertThrowsError(try SamplingPlan(noiseSchedule: schedule, sampler: .euler, steps: 10, strength: 0))
        XCTAssertThrowsError(try SamplingPlan(noiseSchedule: schedule, sampler: .euler, steps: 10, strength: 1.5))
        // Strength too small to leave any step (int(10 * 0.05) = 0).
        XCTAssertThrowsError(try SamplingPlan(noiseSchedule: schedule, sampler: .euler, steps: 10, strength: 0.05))
        XCTAssertThrowsError(try SamplingPlan(noiseSchedule: schedule, sampler: .lcm, schedule: .karras, steps: 4))
        XCTAssertThrowsError(try SamplingPlan(noiseSchedule: schedule, sampler: .lcm, steps: 60))
        XCTAssertThrowsError(try NoiseSchedule(config: SchedulerConfig(betaStart: 0.5, betaEnd: 0.1)))
        XCTAssertThrowsError(try NoiseSchedule(config: SchedulerConfig(numTrainTimesteps: 1)))
    }

    /// sigma -> t -> sigma round trip on the training grid (diffusers' _sigma_to_t is exact there).
    func testSigmaTimestepRoundTrip() throws {
        let schedule = try NoiseSchedule(config: sd1)
        for t in [0, 1, 250, 500, 999] {
            XCTAssertEqual(schedule.timestep(sigma: Double(schedule.sigmas[t])), Double(t), accuracy: 1e-4)
            XCTAssertEqual(schedule.sigmaLinear(timestep: Double(t)), Double(schedule.sigmas[t]))
        }
        // SD 1.x sigma range, as widely quoted (0.0292 .. 14.6146).
        XCTAssertEqual(schedule.sigmaMin, 0.0292, accuracy: 1e-4)
        XCTAssertEqual(schedule.sigmaMax, 14.6146, accuracy: 1e-4)
    }

    func testConfigDecodesDiffusersJSON() throws {
        let json = """
        {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
         "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
         "prediction_type": "v_prediction", "timestep_spacing": "trailing", "clip_sample": false}
        """
        let c = try JSONDecoder().decode(SchedulerConfig.self, from: Data(json.utf8))
        XCTAssertEqual(c.predictionType, .vPrediction)
        XCTAssertEqual(c.timestepSpacing, .trailing)
        XCTAssertEqual(c.stepsOffset, 1)
        XCTAssertEqual(c.setAlphaToOne, false)
        let minimal = try JSONDecoder().decode(SchedulerConfig.self, from: Data("{}".utf8))
        XCTAssertEqual(minimal, SchedulerConfig())
    }
}
