import Foundation
import Tensor
import XCTest
@testable import Sampling

final class SamplingLoopTests: XCTestCase {
    private func fakeDenoiser() -> ModelDenoiser {
        ModelDenoiser(parameterization: .epsilon) { input, t in
            input * Float(0.1) + Float(0.05) * Foundation.sinf(Float(t))
        }
    }

    /// DPM++ SDE against k-diffusion's sample_dpmpp_sde re-stated in torch (fixture), with the
    /// same generator noise (two draws per step). Tolerance 1e-5 relative to the latent scale.
    func testDPMPPSDEMatchesReference() throws {
        let f = try FixtureFile("sampling_extras.safetensors")
        let plan = try SamplingPlan(noiseSchedule: NoiseSchedule(config: SchedulerConfig()), sampler: .dpmppSDE,
                                    schedule: .karras, steps: 10)
        let shape = try f.shape("dpmpp_sde/initial")
        let g = TorchCPUGenerator(seed: 31)
        let x = Sampler.initialLatent(plan: plan, shape: shape, noise: g)
        var latents: [Float] = []
        var called: [Double] = []
        let d = fakeDenoiser()
        let out = try Sampler.sample(plan: plan, x: x, noise: g, denoise: { x, p in
            called.append(p.timestep)
            return try d(x, p)
        }, hooks: SamplingHooks(onStep: { latents += $0.latent.scalars }))
        let want = try f.floats("dpmpp_sde/latents")
        XCTAssertEqual(latents.count, want.count)
        let scale = want.map { abs($0) }.max() ?? 1
        let worst = zip(latents, want).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThanOrEqual(worst, 1e-5 * scale)
        XCTAssertEqual(out.scalars, Array(latents.suffix(out.count)))
        let wantT = try f.doubles("dpmpp_sde/timesteps")
        XCTAssertEqual(called.count, wantT.count)
        for (a, b) in zip(called, wantT) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    /// diffusers' randn_tensor with one generator per batch element.
    func testPerSampleNoiseMatchesDiffusersBatchDraw() throws {
        let f = try FixtureFile("sampling_extras.safetensors")
        let want = try f.floats("batch_noise")
        let noise = PerSampleNoise(generators: [TorchCPUGenerator(seed: 7), TorchCPUGenerator(seed: 8)])
        XCTAssertEqual(noise.randn(try f.shape("batch_noise")).scalars.map(\.bitPattern), want.map(\.bitPattern))
    }

    func testHooksCancelBlendAndProgress() throws {
        let plan = try SamplingPlan(noiseSchedule: NoiseSchedule(config: SchedulerConfig()), sampler: .euler, steps: 6)
        let g = TorchCPUGenerator(seed: 1)
        let x = Sampler.initialLatent(plan: plan, shape: [1, 4, 2, 2], noise: g)
        var seen: [Int] = []
        var calls = 0
        XCTAssertThrowsError(try Sampler.sample(plan: plan, x: x, noise: g, denoise: { x, p in
            calls += 1
            return try self.fakeDenoiser()(x, p)
        }, hooks: SamplingHooks(isCancelled: { seen.count == 3 }, onStep: { seen.append($0.step) }))) {
            XCTAssertEqual($0 as? SamplingError, .cancelled(step: 3))
        }
        XCTAssertEqual(seen, [1, 2, 3])
        XCTAssertEqual(calls, 3, "no model call after cancellation")

        // A blend that pins the latent to zero wins over the sampler at every step.
        var blended: [Int] = []
        let out = try Sampler.sample(plan: plan, x: x, noise: g, denoise: fakeDenoiser().function,
                                     hooks: SamplingHooks(blend: { latent, i in
                                         blended.append(i)
                                         return Tensor.zeros(latent.shape)
                                     }))
        XCTAssertEqual(blended, Array(0..<6))
        XCTAssertEqual(out.scalars, [Float](repeating: 0, count: 16))
    }

    func testModelOutputShapeIsChecked() throws {
        let plan = try SamplingPlan(noiseSchedule: NoiseSchedule(config: SchedulerConfig()), sampler: .euler, steps: 2)
        let bad = ModelDenoiser(parameterization: .epsilon) { _, _ in Tensor.zeros([1, 4, 1, 1]) }
        XCTAssertThrowsError(try Sampler.sample(plan: plan, x: Tensor.zeros([1, 4, 2, 2]), noise: TorchCPUGenerator(seed: 0),
                                                denoise: bad.function)) {
            XCTAssertEqual($0 as? SamplingError, .shapeMismatch(expected: [1, 4, 2, 2], got: [1, 4, 1, 1], context: "model output"))
        }
    }

    /// k-diffusion's parameterisation identities: eps: c_skip 1, c_out -sigma;
    /// v: c_skip 1/(s^2+1), c_out -s/sqrt(s^2+1); and c_in 1/sqrt(s^2+1) for both.
    func testParameterization() {
        let s = 2.0
        XCTAssertEqual(Parameterization.epsilon.cIn(sigma: s), 1 / 5.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(Parameterization.epsilon.cOut(sigma: s), -2)
        XCTAssertEqual(Parameterization.vPrediction.cSkip(sigma: s), 0.2, accuracy: 1e-15)
        XCTAssertEqual(Parameterization.vPrediction.cOut(sigma: s), -2 / 5.0.squareRoot(), accuracy: 1e-15)
        let x = Tensor(shape: [2], values: [1, -3])
        let v = Tensor(shape: [2], values: [0.5, 2])
        let d = Parameterization.vPrediction.denoised(x: x, modelOutput: v, sigma: s).scalars
        XCTAssertEqual(d[0], Float(0.2 - 1 / 5.0.squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(d[1], Float(-0.6 - 4 / 5.0.squareRoot()), accuracy: 1e-6)
    }
}

final class GuidanceTests: XCTestCase {
    /// diffusers' CFG and rescale_noise_cfg (fixture). Tolerance 1e-6 relative to the output
    /// scale (the std is accumulated in double here, in float32 by torch).
    func testGuidanceAndRescaleMatchDiffusers() throws {
        let f = try FixtureFile("sampling_extras.safetensors")
        let shape = try f.shape("cfg/uncond")
        let uncond = Tensor(shape: shape, values: try f.floats("cfg/uncond"))
        let cond = Tensor(shape: shape, values: try f.floats("cfg/cond"))
        for (rescale, key) in [(0.0, "cfg/guided"), (0.7, "cfg/rescaled")] {
            let got = try ClassifierFreeGuidance(scale: 7.5, rescale: rescale)
                .combine(unconditional: uncond, conditional: cond).scalars
            let want = try f.floats(key)
            let scale = want.map { abs($0) }.max() ?? 1
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThanOrEqual(worst, 1e-6 * scale, key)
        }
        XCTAssertFalse(ClassifierFreeGuidance(scale: 1).needsUnconditional)
        XCTAssertThrowsError(try ClassifierFreeGuidance(scale: 2).combine(unconditional: Tensor.zeros([1, 2]),
                                                                          conditional: Tensor.zeros([2, 2])))
    }
}

final class SeedTests: XCTestCase {
    func testSeedResolution() {
        struct Fixed: RandomNumberGenerator { mutating func next() -> UInt64 { 0xDEAD_BEEF_1234_5678 } }
        var rng = Fixed()
        XCTAssertEqual(Seeds.resolve(42, using: &rng), 42)
        XCTAssertEqual(Seeds.resolve(0, using: &rng), 0)
        let random = Seeds.resolve(-1, using: &rng)
        XCTAssertLessThanOrEqual(random, UInt64(UInt32.max), "random seeds are 32-bit")
        XCTAssertEqual(Seeds.resolve(nil, using: &rng), random, "nil behaves like -1")
        XCTAssertEqual(Seeds.batch(from: 10, count: 3), [10, 11, 12])
        XCTAssertEqual(Seeds.batch(from: UInt64.max, count: 2), [UInt64.max, 0])
    }

    func testRNGNames() {
        XCTAssertEqual(RNGKind(name: "cpu"), .cpu)
        XCTAssertEqual(RNGKind(name: "CUDA"), .cuda)
        XCTAssertEqual(RNGKind(name: "NV"), .cuda)
        XCTAssertEqual(RNGKind(name: "gpu"), .cuda)
        XCTAssertNil(RNGKind(name: "mps"))
    }

    func testBatchNoiseIsPerImage() {
        // Image k of a batch gets exactly the noise a single run with seed + k would get.
        let batch = RNGKind.cpu.makeNoise(seeds: Seeds.batch(from: 5, count: 2)).randn([2, 4, 3, 3]).scalars
        let single0 = TorchCPUGenerator(seed: 5).randn([1, 4, 3, 3]).scalars
        let single1 = TorchCPUGenerator(seed: 6).randn([1, 4, 3, 3]).scalars
        XCTAssertEqual(batch, single0 + single1)
        let cuda = RNGKind.cuda.makeNoise(seeds: [9]).randn([1, 4, 2, 2]).scalars
        XCTAssertEqual(cuda, PhiloxGenerator(seed: 9).randn([1, 4, 2, 2]).scalars)
    }
}

/// Every sampler x schedule x spacing at edge step counts either runs to a finite latent or
/// throws a SamplingError; none may trap (a request must never crash the daemon).
final class SamplingRobustnessTests: XCTestCase {
    func testAllCombinationsAreFiniteOrRefused() throws {
        let model = ModelDenoiser(parameterization: .vPrediction) { input, t in
            input * Float(0.1) + Float(0.05) * Foundation.sinf(Float(t))
        }
        for spacing in [SchedulerConfig.TimestepSpacing.leading, .trailing, .linspace] {
            for zeroSNR in [false, true] {
                let config = SchedulerConfig(predictionType: .vPrediction, timestepSpacing: spacing,
                                             setAlphaToOne: zeroSNR, rescaleBetasZeroSNR: zeroSNR)
                let schedule = try NoiseSchedule(config: config)
                for sampler in SamplerKind.allCases {
                    for kind in SigmaScheduleKind.allCases {
                        // 1000 steps (repeated sigmas with leading/linspace spacing) once per
                        // combination; the short runs with every strength.
                        for steps in [1, 2, 7, 1000] {
                            for strength in steps == 1000 ? [nil] : [nil, 0.5, 1.0] {
                                if steps == 1000 && (kind != .normal || zeroSNR) { continue }
                                let label = "\(sampler) \(kind) \(spacing) zsnr=\(zeroSNR) \(steps) \(strength ?? -1)"
                                let plan: SamplingPlan
                                do {
                                    plan = try SamplingPlan(noiseSchedule: schedule, sampler: sampler, schedule: kind,
                                                            steps: steps, strength: strength)
                                } catch is SamplingError { continue }
                                XCTAssertTrue(plan.sigmas.allSatisfy { $0.isFinite && $0 >= 0 }, label)
                                let g = TorchCPUGenerator(seed: 3)
                                let x0 = Tensor(shape: [1, 1, 2, 2], values: [0.5, -0.25, 1, 0])
                                let x = strength == nil
                                    ? Sampler.initialLatent(plan: plan, shape: [1, 1, 2, 2], noise: g)
                                    : Sampler.noisedLatent(plan: plan, x0: x0, noise: g)
                                let out = try Sampler.sample(plan: plan, x: x, noise: g, eta: 1, denoise: model.function)
                                XCTAssertTrue(out.scalars.allSatisfy(\.isFinite), label)
                            }
                        }
                    }
                }
            }
        }
    }
}
