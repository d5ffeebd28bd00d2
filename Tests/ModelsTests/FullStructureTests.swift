import Foundation
import Models
import Tensor
import Weights
import XCTest

/// SD's real block structure (four levels, two layers per level, three resnets per up block, per-level
/// heads, deeper transformers) on small random models — the shared fixtures only have two levels of one
/// layer. See scripts/fixtures/make_models_extra_fixtures.py.
final class FullStructureTests: XCTestCase {
    /// float32 vs PyTorch float32 on identical (fp16-representable) weights: ≤ 1e-4 relative (`relativeError`).
    let tolerance: Float = 1e-4

    private var root: String {
        URL(fileURLWithPath: SDFixtures.root).deletingLastPathComponent()
            .appendingPathComponent("models/full_structure").path
    }

    private func component(_ name: String) throws -> (config: Data, weights: SafeTensorsFile) {
        let config = try Data(contentsOf: URL(fileURLWithPath: "\(root)/\(name)/config.json"))
        return (config, try SafeTensorsFile(path: "\(root)/\(name)/diffusion_pytorch_model.safetensors"))
    }

    func testFourLevelUNetsMatchReference() throws {
        let reference = try SafeTensorsFile(path: "\(root)/reference.safetensors")
        for name in ["unet_sd1", "unet_sd2"] {
            let (configData, weights) = try component(name)
            let config = try JSONDecoder().decode(UNetConfig.self, from: configData)
            XCTAssertEqual(config.blockOutChannels.count, 4)
            let unet = try UNet(config: config, weights: weights)
            let prediction = try unet.forward(latents: try reference.tensor("unet.latents"),
                                              timesteps: try reference.tensor("unet.timesteps").scalars,
                                              context: try reference.tensor("unet.context"))
            assertMatches(prediction, try reference.tensor("\(name).noise_pred"), tolerance: tolerance,
                          "\(name) (4 levels × 2 layers, 13×11 latents)")
        }
    }

    /// Latents far smaller than 2^3 still run (diffusers accepts them too): no precondition may trip.
    func testTinyLatentsRun() throws {
        let (configData, weights) = try component("unet_sd1")
        let unet = try UNet(config: try JSONDecoder().decode(UNetConfig.self, from: configData), weights: weights)
        for (h, w) in [(1, 1), (3, 2), (2, 5)] {
            let output = try unet.forward(latents: Tensor(shape: [1, 4, h, w], repeating: 0.5), timestep: 10,
                                          context: Tensor(shape: [1, 1, 16], repeating: 0.1))
            XCTAssertEqual(output.shape, [1, 4, h, w])
            XCTAssertTrue(output.scalars.allSatisfy(\.isFinite))
        }
    }

    func testFourLevelVAEMatchesReference() throws {
        let reference = try SafeTensorsFile(path: "\(root)/reference.safetensors")
        let (configData, weights) = try component("vae")
        let vae = try VAE(config: try JSONDecoder().decode(VAEConfig.self, from: configData), weights: weights)
        let (mean, logvar) = try vae.encode(try reference.tensor("vae.image"))
        assertMatches(mean, try reference.tensor("vae.mean"), tolerance: tolerance, "4-level VAE posterior mean")
        assertMatches(logvar, try reference.tensor("vae.logvar"), tolerance: tolerance, "4-level VAE posterior logvar")
        assertMatches(try vae.decode(try reference.tensor("vae.latents")), try reference.tensor("vae.decoded"),
                      tolerance: tolerance, "4-level VAE decode (24×40 image)")
    }
}
