import Foundation
import Models
import Tensor
import Weights
import XCTest

/// Networks loaded from each family's diffusers folder reproduce diffusers/transformers' outputs.
final class DiffusersFolderReferenceTests: XCTestCase {
    /// float32 vs PyTorch float32 with different summation orders: ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4

    func testTextEncoderMatchesReference() throws {
        for family in SDFixtures.families {
            let reference = try SDFixtures.reference(family)
            let models = try ModelFiles.load(path: SDFixtures.path(family, "diffusers"))
            try ReferenceChecks.textEncoder(models.textEncoder, reference, family: family, tolerance: tolerance)
        }
    }

    func testUNetMatchesReference() throws {
        for family in SDFixtures.families {
            let reference = try SDFixtures.reference(family)
            let models = try ModelFiles.load(path: SDFixtures.path(family, "diffusers"))
            try ReferenceChecks.unet(models.unet, reference, family: family, tolerance: tolerance)
        }
    }

    func testVAEMatchesReference() throws {
        for family in SDFixtures.families {
            let reference = try SDFixtures.reference(family)
            let models = try ModelFiles.load(path: SDFixtures.path(family, "diffusers"))
            try ReferenceChecks.vae(models.vae, reference, family: family, tolerance: tolerance)
        }
    }

    func testFolderMetadata() throws {
        let sd1 = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers"))
        XCTAssertEqual(sd1.predictionType, .epsilon)
        XCTAssertEqual(sd1.unet.config.inChannels, 4)
        XCTAssertEqual(sd1.latentScale, 0.18215)
        // Every stored element is held once (counts from the fixture files' headers).
        XCTAssertEqual(sd1.unet.parameterCount, 141_140)
        XCTAssertEqual(sd1.vae.parameterCount, 43_711)
        XCTAssertEqual(sd1.textEncoder.parameterCount, 60_160)
        XCTAssertEqual(sd1.parameterBytes, (141_140 + 43_711 + 60_160) * 4)
        XCTAssertEqual(sd1.tokenizer, .folder(vocab: SDFixtures.path("sd1", "diffusers/tokenizer/vocab.json"),
                                              merges: SDFixtures.path("sd1", "diffusers/tokenizer/merges.txt")))
        let sd2 = try ModelFiles.load(path: SDFixtures.path("sd2v", "diffusers"))
        XCTAssertEqual(sd2.predictionType, .vPrediction)
        XCTAssertEqual(try ModelFiles.load(path: SDFixtures.path("sd1-inpaint", "diffusers")).unet.config.inChannels, 9)
        let forced = try ModelFiles.load(path: SDFixtures.path("sd2v", "diffusers"),
                                         options: CheckpointOptions(predictionType: .epsilon))
        XCTAssertEqual(forced.predictionType, .epsilon)
    }
}

/// The comparisons shared by every layout's tests.
enum ReferenceChecks {
    static func textEncoder(_ encoder: CLIPTextEncoder, _ reference: SafeTensorsFile, family: String,
                            tolerance: Float, file: StaticString = #filePath, line: UInt = #line) throws {
        let ids = try SDFixtures.inputIDs(reference)
        assertMatches(try encoder.encode(ids: ids), try reference.tensor("te.last_hidden_state"),
                      tolerance: tolerance, "\(family) last_hidden_state", file: file, line: line)
        // Our clipSkip counts like UIs: clipSkip k = diffusers clip_skip k-1.
        assertMatches(try encoder.encode(ids: ids, clipSkip: 2), try reference.tensor("te.clip_skip_1"),
                      tolerance: tolerance, "\(family) clip skip 2 (diffusers clip_skip=1)", file: file, line: line)
        assertMatches(try encoder.encode(ids: ids, clipSkip: 3), try reference.tensor("te.clip_skip_2"),
                      tolerance: tolerance, "\(family) clip skip 3 (diffusers clip_skip=2)", file: file, line: line)
    }

    static func unet(_ unet: UNet, _ reference: SafeTensorsFile, family: String,
                     tolerance: Float, file: StaticString = #filePath, line: UInt = #line) throws {
        let prediction = try unet.forward(latents: try reference.tensor("unet.latents"),
                                          timesteps: try reference.tensor("unet.timesteps").scalars,
                                          context: try reference.tensor("unet.context"))
        assertMatches(prediction, try reference.tensor("unet.noise_pred"), tolerance: tolerance,
                      "\(family) UNet prediction", file: file, line: line)
    }

    static func vae(_ vae: VAE, _ reference: SafeTensorsFile, family: String,
                    tolerance: Float, file: StaticString = #filePath, line: UInt = #line) throws {
        let (mean, logvar) = try vae.encode(try reference.tensor("vae.image"))
        assertMatches(mean, try reference.tensor("vae.mean"), tolerance: tolerance,
                      "\(family) VAE posterior mean", file: file, line: line)
        assertMatches(logvar, try reference.tensor("vae.logvar"), tolerance: tolerance,
                      "\(family) VAE posterior logvar", file: file, line: line)
        assertMatches(try vae.decode(try reference.tensor("vae.latents")), try reference.tensor("vae.decoded"),
                      tolerance: tolerance, "\(family) VAE decode", file: file, line: line)
    }
}
