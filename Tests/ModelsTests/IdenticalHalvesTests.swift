import Foundation
@testable import Models
import Tensor
import Weights
import XCTest

/// A guidance batch [uncond, cond] with the same latents in both halves runs conv_in, the first resnet and the
/// first self-attention once (`IdenticalHalves`): the prediction is the one of running both halves, for the UNet
/// (SD1's 1×1 and SD2's linear projections, four levels) and a ControlNet (with its hint).
final class IdenticalHalvesTests: XCTestCase {
    override func tearDown() { IdenticalHalves.enabled = true }

    private var root: String {
        URL(fileURLWithPath: SDFixtures.root).deletingLastPathComponent().appendingPathComponent("models/full_structure").path
    }

    /// Runs `body` with the shared path on and off; returns both results and whether the shared one was taken.
    private func bothWays<R>(_ body: () throws -> R) rethrows -> (shared: R, plain: R, taken: Int) {
        IdenticalHalves.enabled = true
        let before = IdenticalHalves.sharedPasses
        let shared = try body()
        let taken = IdenticalHalves.sharedPasses - before
        IdenticalHalves.enabled = false
        defer { IdenticalHalves.enabled = true }
        return (shared, try body(), taken)
    }

    /// Elements whose bits differ, and the largest difference relative to the largest magnitude.
    private func difference(_ a: Tensor, _ b: Tensor) -> (count: Int, relative: Float) {
        let (x, y) = (a.scalars, b.scalars)
        let scale = max(x.map(abs).max() ?? 0, Float.leastNormalMagnitude)
        return (zip(x, y).filter { $0.bitPattern != $1.bitPattern }.count, zip(x, y).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0)
    }

    /// Bit for bit where every convolution of the first level picks the same algorithm for one half as for the
    /// whole batch (24×24 latents: Winograd F(4×4) both ways, as at SD's sizes); on planes so small that the choice
    /// depends on the batch (13×11: images batched into one GEMM, under 256 positions), within float32 rounding.
    func testUNetGuidanceBatchEqualsTheUnsharedPass() throws {
        let reference = try SafeTensorsFile(path: "\(root)/reference.safetensors")
        let context = try reference.tensor("unet.context")  // [2, 9, 16]: two different texts
        let texts = concat([context, context * -0.5], axis: 0)
        var generator = SystemRandomNumberGenerator()
        for name in ["unet_sd1", "unet_sd2"] {
            let config = try JSONDecoder().decode(UNetConfig.self, from: Data(contentsOf: URL(fileURLWithPath: "\(root)/\(name)/config.json")))
            let unet = try UNet(config: config, weights: try SafeTensorsFile(path: "\(root)/\(name)/diffusion_pytorch_model.safetensors"))
            for (h, w, exact) in [(24, 24, true), (13, 11, false)] {
                // Two images, each twice: [a, b, a, b] as the core lays out [uncond × images, cond × images].
                let images = (0..<2).map { _ in
                    Tensor(shape: [1, 4, h, w], values: (0..<(4 * h * w)).map { _ in Float.random(in: -1...1, using: &generator) })
                }
                let guided = concat(images + images, axis: 0)
                let run = try bothWays { try unet.forward(latents: guided, timestep: 421, context: texts) }
                XCTAssertEqual(run.taken, 1, "\(name): the shared path ran")
                let d = difference(run.shared, run.plain)
                if exact {
                    XCTAssertEqual(d.count, 0, "\(name) \(h)×\(w): \(d.count) of \(run.plain.count) differ, by up to \(d.relative)")
                } else {
                    XCTAssertLessThan(d.relative, 2e-5, "\(name) \(h)×\(w)")
                }
                // Halves with different timesteps, or an odd batch, take the plain path.
                let other = try bothWays { try unet.forward(latents: guided, timesteps: [421, 421, 421, 20], context: texts) }
                XCTAssertEqual(other.taken, 0, "\(name): halves with different timesteps are not shared")
                XCTAssertEqual(difference(other.shared, other.plain).count, 0, name)
                let odd = try bothWays {
                    try unet.forward(latents: concat(images + [images[0]], axis: 0), timestep: 421,
                                     context: concat([context, context[batch: 0].reshaped([1, 9, 16])], axis: 0))
                }
                XCTAssertEqual(odd.taken, 0, "\(name): an odd batch is not shared")
            }
        }
    }

    func testControlNetGuidanceBatchEqualsTheUnsharedPass() throws {
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/controlnet/models/sd1-a").path
        let files = try ControlNetFiles.open(path: models)
        let controlNet = try ControlNet(config: files.config, weights: files.weights)
        var generator = SystemRandomNumberGenerator()
        func random(_ shape: [Int]) -> Tensor {
            Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &generator) })
        }
        let latent = random([1, 4, 8, 10])
        let f = controlNet.hintDownscale
        let hint = try controlNet.embedHint(Tensor(shape: [1, 3, 8 * f, 10 * f], values: random([1, 3, 8 * f, 10 * f]).scalars.map { abs($0) }))
        let context = random([2, 7, 32])
        for guessMode in [false, true] {
            let run = try bothWays {
                try controlNet(latents: concat([latent, latent], axis: 0), timestep: 300,
                               conditioning: UNetConditioning(context: context), embeddedHint: concat([hint, hint], axis: 0),
                               scale: 0.7, guessMode: guessMode)
            }
            XCTAssertEqual(run.taken, 1)
            XCTAssertEqual(run.shared.down.count, run.plain.down.count)
            for (a, b) in zip(run.shared.down + [run.shared.mid], run.plain.down + [run.plain.mid]) {
                let d = difference(a, b)
                XCTAssertEqual(d.count, 0, "guess mode \(guessMode): \(d.count) of \(a.count) differ, by up to \(d.relative)")
            }
        }
    }
}
