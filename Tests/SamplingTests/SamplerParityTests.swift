import Foundation
import Tensor
import XCTest
@testable import Sampling

/// Full sampling runs against diffusers' schedulers driven by the same fake model
/// (scripts/fixtures/make_sampling_fixtures.py, sampler_parity.safetensors).
///
/// Tolerances:
/// - latents after every step: max |swift - diffusers| <= 1e-5 * max |diffusers| (relative to
///   the latent's scale; float32 rounding differs between our VE form and diffusers' own
///   formula order, nothing else);
/// - the timesteps handed to the model: |delta| <= 1e-4 (about one float32 ulp at t = 999;
///   integer timesteps must be equal).
final class SamplerParityTests: XCTestCase {
    struct Case: Decodable {
        let name: String
        let sampler: String
        let schedule: String
        let config: String
        let steps: Int
        let seed: UInt64
        let strength: Double?
        let eta: Double?
        let batch_seeds: [UInt64]?
        let config_overrides: [String: AnyCodableValue]?
    }

    /// Just enough of JSON to merge config overrides.
    enum AnyCodableValue: Codable {
        case string(String), number(Double), bool(Bool)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else { self = .string(try c.decode(String.self)) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .number(let n): try c.encode(n)
            case .bool(let b): try c.encode(b)
            }
        }
    }

    static let latentTolerance = 1e-5
    static let timestepTolerance = 1e-4

    func testAllCasesMatchDiffusers() throws {
        let file = try FixtureFile("sampler_parity.safetensors")
        let cases = try JSONDecoder().decode([Case].self, from: Data(try XCTUnwrap(file.metadata["cases"]).utf8))
        let configs = try JSONDecoder().decode([String: [String: AnyCodableValue]].self,
                                               from: Data(try XCTUnwrap(file.metadata["configs"]).utf8))
        XCTAssertGreaterThanOrEqual(cases.count, 34)
        for c in cases {
            var dict = try XCTUnwrap(configs[c.config])
            for (k, v) in c.config_overrides ?? [:] { dict[k] = v }
            let config = try JSONDecoder().decode(SchedulerConfig.self, from: JSONEncoder().encode(dict))
            try runCase(c, config: config, file: file)
        }
    }

    private func runCase(_ c: Case, config: SchedulerConfig, file: FixtureFile) throws {
        let kind = try XCTUnwrap(SamplerKind(rawValue: c.sampler), c.name)
        let schedule = try XCTUnwrap(SigmaScheduleKind(rawValue: c.schedule), c.name)
        var plan = try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: kind,
                                    schedule: schedule, steps: c.steps, strength: c.strength)
        if file.entries["\(c.name)/sigmas"] != nil {
            // The schedule itself: every sigma within one float32 ulp of diffusers' (torch's
            // float32 sqrt here is MKL's, which is not correctly rounded: ~17% of values are
            // one ulp off a correctly rounded sqrt like ours). Zero terminal SNR: 1e-6
            // relative, because rescale_zero_terminal_snr subtracts sqrt(a_T) from sqrt(a_t)
            // and rescales, amplifying those ulps (a formula error would be >= 1e-3).
            let want = try file.doubles("\(c.name)/sigmas")
            XCTAssertEqual(plan.fullSigmas.count, want.count, "\(c.name) sigma count")
            func allowed(_ w: Double) -> Double {
                config.rescaleBetasZeroSNR ? 1e-6 * w : Double(Float(w).ulp)
            }
            for (g, w) in zip(plan.fullSigmas, want) where abs(g - w) > allowed(w) {
                XCTFail("\(c.name): sigma \(g) vs diffusers \(w)")
                break
            }
            if config.rescaleBetasZeroSNR {
                // Zero terminal SNR starts at sigma 4096, where the first step cancels ~400x:
                // a one-ulp sigma difference alone moves the latents by 2e-5 relative. Drive
                // the sampler with diffusers' exact sigmas so this checks the sampler, not sqrt.
                plan = plan.replacingSigmas(Array(want.suffix(plan.sigmas.count)))
            }
        }
        let shape = try file.shape("\(c.name)/initial")
        let generator: NoiseSource = c.batch_seeds.map { seeds in
            PerSampleNoise(generators: seeds.map { TorchCPUGenerator(seed: $0) })
        } ?? TorchCPUGenerator(seed: c.seed)
        let x: Tensor
        if c.strength != nil {
            let x0 = Tensor(shape: shape, values: try file.floats("\(c.name)/x0"))
            x = Sampler.noisedLatent(plan: plan, x0: x0, noise: generator)
        } else {
            x = Sampler.initialLatent(plan: plan, shape: shape, noise: generator)
        }
        // Starting latent, in diffusers' space.
        let toDiffusers: (Tensor, Double) -> Tensor = { latent, sigma in
            kind.latentsAreVP ? latent * Float(1 / (1 + sigma * sigma).squareRoot()) : latent
        }
        assertClose(toDiffusers(x, plan.sigmas[0]).scalars, try file.floats("\(c.name)/initial"), "\(c.name) initial")

        var calledTimesteps: [Double] = []
        let denoiser = ModelDenoiser(parameterization: Parameterization(config.predictionType)) { input, t in
            calledTimesteps.append(t)
            // float32 ops in torch's order: 0.1 * x_in + 0.05 * sin(float32 t)
            return input * Float(0.1) + Float(0.05) * Foundation.sinf(Float(t))
        }
        var stepLatents: [[Float]] = []
        let hooks = SamplingHooks(onStep: { progress in
            stepLatents.append(toDiffusers(progress.latent, plan.sigmas[progress.step]).scalars)
        })
        let result = try Sampler.sample(plan: plan, x: x, noise: generator, eta: c.eta ?? 0,
                                        denoise: denoiser.function, hooks: hooks)

        let wantTimesteps = try file.doubles("\(c.name)/timesteps")
        XCTAssertEqual(calledTimesteps.count, wantTimesteps.count, "\(c.name) model calls")
        for (got, want) in zip(calledTimesteps, wantTimesteps) where abs(got - want) > Self.timestepTolerance {
            XCTFail("\(c.name): model timestep \(got) != diffusers \(want)")
            break
        }
        let want = try file.floats("\(c.name)/latents")
        let per = shape.reduce(1, *)
        XCTAssertEqual(stepLatents.count * per, want.count, "\(c.name) step count")
        for (i, got) in stepLatents.enumerated() where (i + 1) * per <= want.count {
            assertClose(got, Array(want[(i * per)..<((i + 1) * per)]), "\(c.name) step \(i + 1)")
        }
        assertClose(result.scalars, Array(want.suffix(per)), "\(c.name) result")
    }

    private func assertClose(_ got: [Float], _ want: [Float], _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, label, file: file, line: line)
        let scale = want.map { abs(Double($0)) }.max() ?? 0
        let worst = zip(got, want).map { abs(Double($0) - Double($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, Self.latentTolerance * max(scale, 1e-6),
                                 "\(label): max diff \(worst) vs scale \(scale)", file: file, line: line)
    }
}
