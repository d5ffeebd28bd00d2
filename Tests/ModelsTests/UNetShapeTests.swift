import Foundation
import Models
import Tensor
import Weights
import XCTest

/// UNet inputs off the fixtures' beaten path: latent sides that are not a multiple of 2^upsamplers,
/// short contexts, one timestep for the whole batch, and malformed inputs (errors, not crashes).
final class UNetShapeTests: XCTestCase {
    /// float32 vs PyTorch float32, different summation orders: ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4

    private var oddSizeReference: String {
        URL(fileURLWithPath: SDFixtures.root).deletingLastPathComponent()
            .appendingPathComponent("models/unet_odd_size.safetensors").path
    }

    func testOddLatentSizeShortContextMatchesReference() throws {
        let reference = try SafeTensorsFile(path: oddSizeReference)
        for family in ["sd1", "sd2v"] {
            let unet = try ModelFiles.load(path: SDFixtures.path(family, "diffusers")).unet
            let latents = try reference.tensor("\(family).latents")
            let context = try reference.tensor("\(family).context")
            let prediction = try unet.forward(latents: latents, timesteps: try reference.tensor("\(family).timesteps").scalars,
                                              context: context)
            assertMatches(prediction, try reference.tensor("\(family).noise_pred"), tolerance: tolerance,
                          "\(family) UNet at 15×13 latents, 7-token context")
            let single = try unet.forward(latents: latents, timestep: 250, context: context)
            assertMatches(single, try reference.tensor("\(family).single_t"), tolerance: tolerance,
                          "\(family) UNet with one timestep for the batch")
        }
    }

    func testMalformedInputsThrow() throws {
        let unet = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers")).unet
        let context = Tensor(shape: [2, 77, 32])
        XCTAssertThrowsError(try unet.forward(latents: Tensor(shape: [2, 9, 8, 8]), timestep: 1, context: context)) {
            XCTAssertEqual($0 as? UNetError, .latentShape(found: [2, 9, 8, 8], expectedChannels: 4))
        }
        XCTAssertThrowsError(try unet.forward(latents: Tensor(shape: [2, 4, 8, 8]), timesteps: [1, 2, 3],
                                              context: context)) {
            XCTAssertEqual($0 as? UNetError, .timestepCount(found: 3, batch: 2))
        }
        XCTAssertThrowsError(try unet.forward(latents: Tensor(shape: [2, 4, 8, 8]), timestep: 1,
                                              context: Tensor(shape: [2, 77, 31]))) {
            XCTAssertEqual($0 as? UNetError, .contextShape(found: [2, 77, 31], batch: 2, expectedDim: 32))
        }
        XCTAssertThrowsError(try unet.forward(latents: Tensor(shape: [1, 4, 8, 8]), timestep: 1, context: context)) {
            XCTAssertEqual($0 as? UNetError, .contextShape(found: [2, 77, 32], batch: 1, expectedDim: 32))
        }
    }

    func testTextEncoderRejectsBadIDs() throws {
        let encoder = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers")).textEncoder
        XCTAssertThrowsError(try encoder.encode(ids: [[49406, 5000]])) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .tokenOutOfRange(id: 49406, vocabularySize: 1000))
        }
        XCTAssertThrowsError(try encoder.encode(ids: [[1, 2], [1]])) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .raggedBatch(lengths: [2, 1]))
        }
        XCTAssertThrowsError(try encoder.encode(ids: [Array(repeating: 1, count: 78)])) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .sequenceTooLong(length: 78, maximum: 77))
        }
        XCTAssertThrowsError(try encoder.encode(ids: [[1, 2]], clipSkip: 4)) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .clipSkipOutOfRange(clipSkip: 4, layers: 3))
        }
        XCTAssertThrowsError(try encoder.encode(ids: [])) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .emptyBatch)
        }
        XCTAssertThrowsError(try encoder.encode(ids: [[], []])) {
            XCTAssertEqual($0 as? CLIPTextEncoderError, .emptySequence)
        }
    }

    func testVAERejectsWrongChannels() throws {
        let vae = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers")).vae
        XCTAssertThrowsError(try vae.encode(Tensor(shape: [1, 4, 8, 8]))) {
            XCTAssertEqual($0 as? VAEError, .imageShape(found: [1, 4, 8, 8], expectedChannels: 3))
        }
        // Two levels, one downsample: sides of 1 pixel cannot be encoded (2 can).
        XCTAssertThrowsError(try vae.encode(Tensor(shape: [1, 3, 1, 5]))) {
            XCTAssertEqual($0 as? VAEError, .imageTooSmall(height: 1, width: 5, minimum: 2))
        }
        XCTAssertEqual(try vae.encode(Tensor(shape: [1, 3, 2, 3])).mean.shape, [1, 4, 1, 1])
        XCTAssertThrowsError(try vae.decode(Tensor(shape: [1, 3, 8, 8]))) {
            XCTAssertEqual($0 as? VAEError, .latentShape(found: [1, 3, 8, 8], expectedChannels: 4))
        }
    }
}
