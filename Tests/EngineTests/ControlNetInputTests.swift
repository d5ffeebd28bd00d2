import Engine
import Foundation
import Imaging
import Models
import Sampling
import Tensor
import XCTest

/// The pieces of a ControlNet run the parity cases exercise only in combination: diffusers' keep rule, guess mode's
/// logspace scaling, global pooling, BGR channel order, and the refusals that happen before a run.
final class ControlNetInputTests: XCTestCase {
    static func controlNet(_ name: String) throws -> LoadedControlNet {
        try ControlNetParityTests.controlNet(name)
    }

    static func input(_ name: String, start: Double = 0, end: Double = 1) throws -> ControlNetInput {
        ControlNetInput(controlNet: try controlNet(name), image: try VipsImage(bytes: [UInt8](repeating: 200, count: 3 * 64),
                                                                              width: 8, height: 8, bands: 3),
                        start: start, end: end, field: "control[0]")
    }

    /// `1 - float(i / n < start or (i + 1) / n > end)`, as diffusers computes controlnet_keep.
    func testKeepRuleIsDiffusers() throws {
        for (n, start, end) in [(10, 0.2, 0.7), (8, 0.0, 0.5), (6, 0.1, 0.9), (5, 0.0, 1.0), (7, 0.3, 0.31)] {
            let entry = try Self.input("sd1-a", start: start, end: end)
            for i in 0..<n {
                let diffusers = !(Double(i) / Double(n) < start || Double(i + 1) / Double(n) > end)
                XCTAssertEqual(entry.isActive(step: i, of: n), diffusers, "step \(i) of \(n), [\(start), \(end)]")
            }
        }
    }

    struct Inputs {
        let latents: Tensor
        let hint: Tensor
        let conditioning: UNetConditioning
    }

    static func inputs() -> Inputs {
        Inputs(latents: Tensor(shape: [1, 4, 8, 8], values: (0..<256).map { sin(Float($0) * 0.41) }),
               hint: Tensor(shape: [1, 3, 16, 16], values: (0..<768).map { Float(($0 * 5) % 13) / 12 }),
               conditioning: UNetConditioning(context: Tensor(shape: [1, 4, 32], values: (0..<128).map { cos(Float($0) * 0.3) })))
    }

    /// Guess mode scales down residual k of n by 10^(-1 + k/n) and the mid one by 1 (torch.logspace(-1, 0, n + 1)).
    func testGuessModeScalesByLogspace() throws {
        let net = try Self.controlNet("sd1-a").network
        let x = Self.inputs()
        let plain = try net(latents: x.latents, timestep: 300, conditioning: x.conditioning, image: x.hint, scale: 0.7, guessMode: false)
        let guess = try net(latents: x.latents, timestep: 300, conditioning: x.conditioning, image: x.hint, scale: 0.7, guessMode: true)
        let n = plain.down.count
        XCTAssertEqual(n, 4)
        for k in 0..<n {
            let factor = Float(pow(10, -1 + Double(k) / Double(n)))
            let expected = plain.down[k].scalars.map { $0 * factor }
            XCTAssertLessThanOrEqual(PipelineParityTests.maxAbsDiff(guess.down[k].scalars, expected),
                                     1e-6 * (expected.map { abs($0) }.max() ?? 1), "residual \(k)")
        }
        XCTAssertEqual(guess.mid.scalars, plain.mid.scalars)
    }

    /// Shuffle-type models mean-pool every residual over height and width.
    func testGlobalPoolingGivesSpatiallyConstantResiduals() throws {
        let net = try Self.controlNet("sd1-pool").network
        XCTAssertTrue(net.config.globalPoolConditions)
        let x = Self.inputs()
        let r = try net(latents: x.latents, timestep: 300, conditioning: x.conditioning, image: x.hint, scale: 1, guessMode: false)
        for residual in r.down + [r.mid] {
            let plane = residual.shape[2] * residual.shape[3]
            let v = residual.scalars
            for c in 0..<(v.count / plane) {
                let first = v[c * plane]
                XCTAssertTrue(v[(c * plane)..<((c + 1) * plane)].allSatisfy { $0 == first }, "\(residual.shape) channel \(c)")
            }
        }
    }

    /// The hint block depends on the image only: embedding it once and repeating it for the guidance batch gives
    /// the bits that embedding the repeated image does (what the sampling loop did at every step), through both
    /// convolution paths (im2col, and Winograd forced on the tiny layers).
    func testHintEmbeddedOnceEqualsEmbeddingItPerStep() throws {
        // Bit for bit with OpenBLAS's AVX-512 kernels; its AVX2 ones (Haswell/Zen) round a batch of one and of two
        // differently (seen on an AMD EPYC without AVX-512, as in IdenticalHalvesTests), so there within float32 rounding.
        func assertSame(_ a: Tensor, _ b: Tensor, _ what: String) {
            if KernelClass.currentCPU >= .avx512 {
                XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), what)
            } else {
                let scale = max(b.scalars.map(abs).max() ?? 0, Float.leastNormalMagnitude)
                XCTAssertLessThan(PipelineParityTests.maxAbsDiff(a.scalars, b.scalars) / scale, 2e-5, what)
            }
        }
        let net = try Self.controlNet("sd1-a").network
        let x = Self.inputs()
        let latents = concat([x.latents, x.latents * 0.5], axis: 0)
        var conditioning = x.conditioning
        conditioning.context = concat([x.conditioning.context, x.conditioning.context], axis: 0)
        defer { WinogradConvolution.minimumChannels = 16; WinogradConvolution.minimumTiles4x4 = 32 }
        for forceWinograd in [false, true] {
            if forceWinograd { WinogradConvolution.minimumChannels = 1; WinogradConvolution.minimumTiles4x4 = 1 }
            let twice = concat([x.hint, x.hint], axis: 0)
            let once = try net.embedHint(x.hint)
            assertSame(concat([once, once], axis: 0), try net.embedHint(twice), "hint, forced Winograd: \(forceWinograd)")
            let perStep = try net(latents: latents, timestep: 300, conditioning: conditioning, image: twice, scale: 0.8, guessMode: false)
            let reused = try net(latents: latents, timestep: 300, conditioning: conditioning,
                                 embeddedHint: concat([once, once], axis: 0), scale: 0.8, guessMode: false)
            for (a, b) in zip(perStep.down + [perStep.mid], reused.down + [reused.mid]) {
                assertSame(a, b, "forced Winograd: \(forceWinograd)")
            }
        }
        XCTAssertThrowsError(try net(latents: latents, timestep: 300, conditioning: conditioning,
                                     embeddedHint: try net.embedHint(x.hint), scale: 1, guessMode: false)) { error in
            XCTAssertEqual(error as? ControlNetError, .hintShape(found: [1, 16, 8, 8], expected: [2, 16, 8, 8]))
        }
    }

    /// A BGR model sees the image with its channels reversed.
    func testBGRChannelOrderFlipsTheHint() throws {
        let file = try ControlNetFiles.open(path: ControlNetParityTests.root.appendingPathComponent("models/sd1-a").path)
        var config = file.config
        config.conditioningChannelOrder = "bgr"
        let bgr = try ControlNet(config: config, weights: file.weights)
        let rgb = try ControlNet(config: file.config, weights: file.weights)
        let x = Self.inputs()
        let planes = split(x.hint, axis: 1, sizes: [1, 1, 1])
        let reversed = concat([planes[2], planes[1], planes[0]], axis: 1)
        let a = try bgr(latents: x.latents, timestep: 300, conditioning: x.conditioning, image: x.hint, scale: 1, guessMode: false)
        let b = try rgb(latents: x.latents, timestep: 300, conditioning: x.conditioning, image: reversed, scale: 1, guessMode: false)
        XCTAssertEqual(a.mid.scalars, b.mid.scalars)
        XCTAssertThrowsError(try rgb(latents: x.latents, timestep: 300, conditioning: x.conditioning,
                                     image: Tensor(shape: [1, 3, 8, 8]), scale: 1, guessMode: false)) { error in
            XCTAssertEqual(error as? ControlNetError, .hintShape(found: [1, 3, 8, 8], expected: [1, 3, 16, 16]))
        }
    }

    /// Refused before any step, naming the entry's member.
    func testRunRefusesBadEntries() throws {
        let sd1 = try ControlNetParityTests.model("sd1")
        var request = GenerationRequest(prompt: "x")
        request.width = 32
        request.height = 32
        request.steps = 2
        func field(_ controls: [ControlNetInput]) -> String? {
            request.controls = controls
            do {
                _ = try StableDiffusionPipeline(model: sd1).run(request)
                return nil
            } catch EngineError.invalidParameter(let field, _) {
                return field
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(field([try Self.input("sdxl-a")]), "control[0].model")
        XCTAssertEqual(field([try Self.input("sd1-a", start: 0.5, end: 0.5)]), "control[0].start")
        XCTAssertEqual(field([try Self.input("sd1-grey")]), "control[0].image")
        var nonFinite = try Self.input("sd1-a")
        nonFinite.weight = .nan
        XCTAssertEqual(field([nonFinite]), "control[0].weight")
        // The SDXL ControlNet fits the SDXL checkpoint.
        let xl = try ControlNetParityTests.model("sdxl")
        XCTAssertNoThrow(try GenerationCore.check(control: try Self.input("sdxl-a"), model: xl))
    }
}

extension ControlNetInputTests {
    /// Each control entry is one quoted unit in the PNG's parameters text, so the image tells how it was steered.
    func testParametersTextNamesEachControl() throws {
        var request = GenerationRequest(prompt: "a house")
        request.width = 32
        request.height = 32
        var first = try Self.input("sd1-a", start: 0.1, end: 0.9)
        first.weight = 0.8
        first.resizeMode = .cropAndResize
        var second = try Self.input("sd1-pool")
        second.guessMode = false  // a pooling model runs in guess mode anyway
        request.controls = [first, second]
        let text = GenerationInfo.parameters(request, seed: 1, modelName: "tiny")
        XCTAssertTrue(text.contains(#"ControlNet 0: "Module: none, Model: sd1-a, Weight: 0.8, Resize Mode: Crop And Resize, "#
            + #"Guidance Start: 0.1, Guidance End: 0.9, Guess Mode: False", "#), text)
        XCTAssertTrue(text.contains(#"ControlNet 1: "Module: none, Model: sd1-pool, Weight: 1, Resize Mode: Just Resize, "#
            + #"Guidance Start: 0, Guidance End: 1, Guess Mode: True", RNG: CPU"#), text)
    }
}

extension ControlNetInputTests {
    /// A ControlNet and a T2I-Adapter in one run: both go through the one UNet encoder (adapter features inside the
    /// down blocks, ControlNet residuals on the skips), and each changes the result the other gives alone.
    func testControlNetAndAdapterTogether() throws {
        let model = try ControlNetParityTests.model("sd1")
        let adapter = try T2IAdapterFiles.load(path: PipelineFixtures.root.appendingPathComponent("t2i_adapter/sd1-full").path)
        var request = GenerationRequest(prompt: "a house")
        request.width = 32
        request.height = 32
        request.steps = 4
        request.seed = 3
        request.sampler = try SamplerChoice.parse(sampler: "euler")
        let picture = Tensor(shape: [1, 3, 32, 32], values: (0..<3072).map { Float(($0 / 4) % 2) })
        var withControl = request
        withControl.controls = [try Self.input("sd1-a")]
        var withAdapter = request
        withAdapter.adapters = [T2IAdapterControl(name: "sd1-full", adapter: adapter, image: picture)]
        var both = withControl
        both.adapters = withAdapter.adapters
        let pipeline = StableDiffusionPipeline(model: model)
        let c = try pipeline.run(withControl).latents.scalars
        let a = try pipeline.run(withAdapter).latents.scalars
        let b = try pipeline.run(both).latents.scalars
        XCTAssertGreaterThan(PipelineParityTests.maxAbsDiff(b, c), 1e-3, "the adapter acts next to the ControlNet")
        XCTAssertGreaterThan(PipelineParityTests.maxAbsDiff(b, a), 1e-3, "the ControlNet acts next to the adapter")
    }
}
