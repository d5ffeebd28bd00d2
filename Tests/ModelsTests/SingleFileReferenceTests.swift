import Foundation
import Models
import Tensor
import Weights
import XCTest

/// Networks loaded from each family's original-layout single files (.safetensors and .ckpt) reproduce
/// diffusers/transformers' outputs — the same references the diffusers folders are checked against.
final class SingleFileReferenceTests: XCTestCase {
    /// float32 vs PyTorch float32 with different summation orders: ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4
    let files = ["single.safetensors", "single.ckpt"]

    private func load(_ family: String, _ file: String) throws -> StableDiffusionModels {
        try ModelFiles.load(path: SDFixtures.path(family, file),
                            options: CheckpointOptions(conventions: try SDFixtures.conventions(family)))
    }

    func testTextEncoderMatchesReference() throws {
        for family in SDFixtures.families {
            let reference = try SDFixtures.reference(family)
            for file in files {
                try ReferenceChecks.textEncoder(try load(family, file).textEncoder, reference,
                                                family: "\(family) \(file)", tolerance: tolerance)
            }
        }
    }

    func testUNetMatchesReference() throws {
        for family in SDFixtures.families {
            let reference = try SDFixtures.reference(family)
            for file in files {
                try ReferenceChecks.unet(try load(family, file).unet, reference,
                                         family: "\(family) \(file)", tolerance: tolerance)
            }
        }
    }

    func testVAEMatchesReference() throws {
        for family in SDFixtures.families {
            let reference = try SDFixtures.reference(family)
            for file in files {
                try ReferenceChecks.vae(try load(family, file).vae, reference,
                                        family: "\(family) \(file)", tolerance: tolerance)
            }
        }
    }

    func testDetectedMetadata() throws {
        for file in files {
            let sd1 = try load("sd1", file)
            XCTAssertEqual(sd1.predictionType, .epsilon)
            XCTAssertEqual(sd1.tokenizer, .standard)
            XCTAssertEqual(sd1.layout, .singleFile(path: SDFixtures.path("sd1", file), family: "sd1"))
            let inpaint = try load("sd1-inpaint", file)
            XCTAssertEqual(inpaint.unet.config.inChannels, 9)
            XCTAssertEqual(inpaint.layout, .singleFile(path: SDFixtures.path("sd1-inpaint", file), family: "sd1-inpaint"))
            // SD2 single files say nothing about v vs epsilon: v unless told (diffusers' rule).
            let sd2 = try load("sd2v", file)
            XCTAssertEqual(sd2.predictionType, .vPrediction)
            XCTAssertEqual(sd2.textEncoder.config.numHiddenLayers, 3, "diffusers' SD2 depth: one layer short of the file")
            let forced = try ModelFiles.load(path: SDFixtures.path("sd2v", file),
                                             options: CheckpointOptions(predictionType: .epsilon,
                                                                        conventions: try SDFixtures.conventions("sd2v")))
            XCTAssertEqual(forced.predictionType, .epsilon)
        }
    }

    /// The other route to SD2's conditioning: expose all stored OpenCLIP layers and run one fewer.
    /// The unused last layer is shape-checked (strict) but not kept.
    func testSD2AllLayersWithLayersToRunMatchesReference() throws {
        let file = try SafeTensorsFile(path: SDFixtures.path("sd2v", "single.safetensors"))
        let architecture = try SingleFileArchitecture.detect(file, conventions: try SDFixtures.conventions("sd2v"))
        let detected = try XCTUnwrap(architecture.textEncoder)
        var config = CLIPTextConfig(detected)
        config.numHiddenLayers = detected.storedLayers
        let encoder = try CLIPTextEncoder(config: config, weights: try LDMToDiffusers.textEncoder(file, openCLIPDepth: .all),
                                          layersToRun: detected.storedLayers - 1)
        XCTAssertEqual(encoder.layersToRun, 3)
        let penultimate = try CLIPTextEncoder(config: CLIPTextConfig(detected),
                                              weights: try LDMToDiffusers.textEncoder(file, openCLIPDepth: .penultimate))
        XCTAssertEqual(encoder.parameterCount, penultimate.parameterCount, "the unused last layer is not held")
        try ReferenceChecks.textEncoder(encoder, try SDFixtures.reference("sd2v"), family: "sd2v all layers, run 3",
                                        tolerance: tolerance)
        // Running every stored layer is a different (wrong for SD2) conditioning: it must not match.
        let everything = try CLIPTextEncoder(config: config, weights: try LDMToDiffusers.textEncoder(file, openCLIPDepth: .all))
        let ids = try SDFixtures.inputIDs(try SDFixtures.reference("sd2v"))
        XCTAssertGreaterThan(relativeError(try everything.encode(ids: ids),
                                           try SDFixtures.reference("sd2v").tensor("te.last_hidden_state")), 1e-2)
    }

    func testMissingComponentAndMappingErrorsAreNamed() throws {
        // A single file with only the UNet is not a usable SD checkpoint: the error says what is missing.
        let file = try SafeTensorsFile(path: SDFixtures.path("sd1", "single.safetensors"))
        // (The int64 position_ids buffer cannot round-trip through float32; the text encoder ignores it anyway.)
        var tensors = try InMemorySource(copying: file, including: { !$0.hasSuffix("position_ids") }).tensors
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("models-single-\(getpid()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        func write(_ tensors: [String: Tensor]) throws {
            var writer = SafeTensorsWriter()
            for name in tensors.keys.sorted() { try writer.add(name, tensors[name]!) }
            try? FileManager.default.removeItem(atPath: temp)
            try writer.write(to: temp)
        }
        let options = CheckpointOptions(conventions: try SDFixtures.conventions("sd1"))

        var withoutVAE = tensors
        for name in withoutVAE.keys where name.hasPrefix("first_stage_model.") { withoutVAE[name] = nil }
        try write(withoutVAE)
        XCTAssertThrowsError(try ModelFiles.load(path: temp, options: options)) { error in
            guard case let .unrecognised(path, reason)? = error as? CheckpointError else {
                return XCTFail("expected unrecognised, got \(error)")
            }
            XCTAssertEqual(path, temp)
            XCTAssertTrue(reason.contains("VAE"), reason)
        }

        // An extra tensor inside the UNet's prefix fails the load and is named.
        tensors["model.diffusion_model.input_blocks.1.0.extra.weight"] = Tensor(shape: [2])
        try write(tensors)
        XCTAssertThrowsError(try ModelFiles.load(path: temp, options: options)) { error in
            XCTAssertTrue(String(describing: error).contains("model.diffusion_model.input_blocks.1.0.extra.weight"),
                          String(describing: error))
        }
    }
}

/// A sidecar LDM config next to a single file decides epsilon vs v (A1111's convention).
final class SingleFileSidecarTests: XCTestCase {
    func testSidecarParameterization() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("models-sidecar-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let checkpoint = folder.appendingPathComponent("model.safetensors").path
        try FileManager.default.copyItem(atPath: SDFixtures.path("sd2v", "single.safetensors"), toPath: checkpoint)
        let options = CheckpointOptions(conventions: try SDFixtures.conventions("sd2v"))
        let sidecar = folder.appendingPathComponent("model.yaml")

        try "model:\n  params:\n    parameterization: \"v\"  # 768-v\n".write(to: sidecar, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ModelFiles.load(path: checkpoint, options: options).predictionType, .vPrediction)

        try "model:\n  params:\n    linear_start: 0.00085\n".write(to: sidecar, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ModelFiles.load(path: checkpoint, options: options).predictionType, .epsilon,
                       "an LDM config without parameterization is epsilon")

        var explicit = options
        explicit.predictionType = .vPrediction
        XCTAssertEqual(try ModelFiles.load(path: checkpoint, options: explicit).predictionType, .vPrediction,
                       "the explicit option wins over the sidecar")
    }
}
