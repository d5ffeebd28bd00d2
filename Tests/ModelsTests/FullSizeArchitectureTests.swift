import Foundation
import Models
import Tensor
import Weights
import XCTest

/// Opt-in: SD's real-size architectures vs diffusers on random weights made by
/// scripts/fixtures/make_full_size_check.py (gigabytes, so never committed; skipped unless
/// DIFFUSIOND_FULL_SIZE_DIR names such a folder).
final class FullSizeArchitectureTests: XCTestCase {
    /// float32 vs PyTorch float32 with different summation orders: ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4

    func testFullSizeFolderMatchesReference() throws {
        guard let folder = ProcessInfo.processInfo.environment["DIFFUSIOND_FULL_SIZE_DIR"] else {
            throw XCTSkip("set DIFFUSIOND_FULL_SIZE_DIR to a folder made by make_full_size_check.py")
        }
        let reference = try SafeTensorsFile(path: folder + "/ref.safetensors")
        let models = try ModelFiles.load(path: folder)
        let ids = try reference.tensor("ids")
        let flat = ids.scalars.map { Int32($0) }
        let batch = (0..<ids.shape[0]).map { Array(flat[($0 * ids.shape[1])..<(($0 + 1) * ids.shape[1])]) }
        assertMatches(try models.textEncoder.encode(ids: batch), try reference.tensor("last"),
                      tolerance: tolerance, "full-size text encoder")
        assertMatches(try models.textEncoder.encode(ids: batch, clipSkip: 2), try reference.tensor("skip1"),
                      tolerance: tolerance, "full-size text encoder, clip skip 2")
        let prediction = try models.unet.forward(latents: try reference.tensor("lat"),
                                                 timesteps: try reference.tensor("ts").scalars,
                                                 context: try reference.tensor("last"))
        assertMatches(prediction, try reference.tensor("npred"), tolerance: tolerance, "full-size UNet")
        let (mean, logvar) = try models.vae.encode(try reference.tensor("img"))
        assertMatches(mean, try reference.tensor("mean"), tolerance: tolerance, "full-size VAE mean")
        assertMatches(logvar, try reference.tensor("logvar"), tolerance: tolerance, "full-size VAE logvar")
        assertMatches(try models.vae.decode(try reference.tensor("z")), try reference.tensor("dec"),
                      tolerance: tolerance, "full-size VAE decode")
    }
}
