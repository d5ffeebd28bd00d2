import Foundation
import Models
import Tensor
import Weights
import XCTest

/// ControlNets from diffusers folders and from original-layout single files (bare names in .safetensors,
/// `control_model.` in a torch zip .pth read by the restricted unpickler) load to the same tensors and compute the
/// same residuals; the family and hint channels come from the tensors; loading is strict.
/// Fixtures: scripts/fixtures/make_controlnet_fixtures.py.
final class ControlNetLoadingTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/controlnet/models")

    static func path(_ name: String) -> String { models.appendingPathComponent(name).path }

    /// The tiny models' hyper-parameters that single files cannot record (family.json): real files use the family's.
    static func options(sdxl: Bool) throws -> ControlNetOptions {
        let family = try XCTUnwrap(try JSONSerialization.jsonObject(
            with: Data(contentsOf: models.appendingPathComponent("family.json"))) as? [String: [String: Int]])
        var conventions = SingleFileConventions.stableDiffusion
        if sdxl {
            conventions.sdxlAttentionHeadDim = try XCTUnwrap(family["sdxl"]?["head_dim"])
            conventions.unetNormGroups = try XCTUnwrap(family["sdxl"]?["unet_norm_groups"])
        } else {
            conventions.sd1AttentionHeads = try XCTUnwrap(family["sd1"]?["sd1_heads"])
            conventions.unetNormGroups = try XCTUnwrap(family["sd1"]?["unet_norm_groups"])
        }
        // The tiny SDXL's pooled text embeds are 40 wide (88 = 40 + 6 × 8).
        return ControlNetOptions(conventions: conventions, sdxlPooledWidth: sdxl ? 40 : 1280)
    }

    func testSingleFilesLoadTheFolderTensors() throws {
        for (folder, files, sdxl) in [("sd1-a", ["sd1-a-ldm.safetensors", "sd1-a-ldm.pth"], false),
                                      ("sdxl-a", ["sdxl-a-ldm.safetensors", "sdxl-a-diffusers.safetensors"], true)] {
            let reference = try ControlNetFiles.open(path: Self.path(folder))
            XCTAssertEqual(reference.layout, .diffusers)
            for file in files {
                let single = try ControlNetFiles.open(path: Self.path(file), options: try Self.options(sdxl: sdxl))
                XCTAssertEqual(single.family, reference.family, file)
                XCTAssertEqual(single.layout, file.hasSuffix(".pth") ? .ckpt : .safetensors, file)
                XCTAssertEqual(single.weights.names.sorted(), reference.weights.names.sorted(), file)
                for name in reference.weights.names {
                    let a = try reference.weights.tensor(name), b = try single.weights.tensor(name)
                    XCTAssertEqual(a.shape, b.shape, "\(file): \(name)")
                    XCTAssertEqual(a.scalars, b.scalars, "\(file): \(name)")
                }
                XCTAssertEqual(single.config.conditioningChannels, reference.config.conditioningChannels, file)
                XCTAssertEqual(single.config.conditioningEmbeddingOutChannels,
                               reference.config.conditioningEmbeddingOutChannels, file)
                XCTAssertEqual(single.config.unet.blockOutChannels, reference.config.unet.blockOutChannels, file)
                XCTAssertEqual(single.config.unet.projectionClassEmbeddingsInputDim,
                               reference.config.unet.projectionClassEmbeddingsInputDim, file)
                XCTAssertEqual(single.config.unet.additionTimeEmbedDim, reference.config.unet.additionTimeEmbedDim, file)
            }
        }
    }

    /// Same tensors and an equivalent config: the networks give identical residuals.
    func testBothLayoutsComputeTheSameResiduals() throws {
        for (folder, file, sdxl) in [("sd1-a", "sd1-a-ldm.pth", false), ("sdxl-a", "sdxl-a-ldm.safetensors", true),
                                     ("sdxl-a", "sdxl-a-diffusers.safetensors", true)] {
            let a = try ControlNetFiles.load(path: Self.path(folder)).network
            let b = try ControlNetFiles.load(path: Self.path(file), options: try Self.options(sdxl: sdxl)).network
            let latents = Tensor(shape: [2, 4, 8, 8], values: (0..<512).map { sin(Float($0) * 0.37) })
            let hint = Tensor(shape: [2, 3, 16, 16], values: (0..<1536).map { Float(($0 * 7) % 11) / 10 })
            let context = Tensor(shape: [2, 5, a.contextDim], values: (0..<(10 * a.contextDim)).map { cos(Float($0) * 0.11) })
            var conditioning = UNetConditioning(context: context)
            if let embedding = a.textTimeEmbedding {
                let pooled = embedding.inputWidth - 6 * embedding.timeIDWidth
                conditioning.added = AddedConditioning(
                    textEmbeds: Tensor(shape: [2, pooled], values: (0..<(2 * pooled)).map { Float($0 % 5) / 5 }),
                    timeIDs: Tensor(shape: [2, 6], values: [32, 32, 0, 0, 32, 32, 32, 32, 0, 0, 32, 32]))
            }
            let ra = try a(latents: latents, timestep: 500, conditioning: conditioning, image: hint, scale: 0.8, guessMode: true)
            let rb = try b(latents: latents, timestep: 500, conditioning: conditioning, image: hint, scale: 0.8, guessMode: true)
            XCTAssertEqual(ra.down.count, a.skipConnectionCount, folder)
            XCTAssertEqual(ra.down.map(\.scalars), rb.down.map(\.scalars), folder)
            XCTAssertEqual(ra.mid.scalars, rb.mid.scalars, folder)
            // The hint reaches the residuals (the fixture re-randomised the hint block and zero convolutions).
            let other = try a(latents: latents, timestep: 500, conditioning: conditioning, image: hint * 0,
                              scale: 0.8, guessMode: true)
            XCTAssertNotEqual(ra.mid.scalars, other.mid.scalars, folder)
        }
    }

    func testFamilyHintChannelsAndOptions() throws {
        let cases: [(String, ModelFamilyID, Int, Bool)] = [
            ("sd1-a", .sd1, 3, false), ("sd1-grey", .sd1, 1, false), ("sd1-pool", .sd1, 3, true), ("sdxl-a", .sdxl, 3, false),
        ]
        for (name, family, channels, pooled) in cases {
            let file = try ControlNetFiles.open(path: Self.path(name))
            XCTAssertEqual(file.family, family, name)
            XCTAssertEqual(file.config.conditioningChannels, channels, name)
            XCTAssertEqual(file.config.globalPoolConditions, pooled, name)
            XCTAssertEqual(file.dtypes, [.f32], name)
        }
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 1024, addedEmbedding: false), .sd2)
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 768, addedEmbedding: false), .sd1)
        XCTAssertEqual(ControlNetFamily.detect(contextDim: 2048, addedEmbedding: true), .sdxl)
    }

    /// A checkpoint is not a ControlNet; a stray or missing tensor fails naming it; the wrong time-id width fails.
    func testStrictness() throws {
        let checkpoint = SDFixtures.path("sd1", "single.safetensors")
        XCTAssertThrowsError(try ControlNetFiles.open(path: checkpoint)) { error in
            XCTAssertTrue("\(error)".contains("not a ControlNet"), "\(error)")
        }
        let file = try SafeTensorsFile(path: Self.path("sd1-a-ldm.safetensors"))
        var extra = try InMemorySource(copying: file)
        extra.tensors["zero_convs.99.0.weight"] = Tensor(shape: [1, 1, 1, 1])
        extra.tensors["zero_convs.99.0.bias"] = Tensor(shape: [1])
        let mappedExtra = try LDMControlNetLayout.detect(extra).mapping(extra)
        XCTAssertThrowsError(try ControlNet(config: try ControlNetFiles.open(path: Self.path("sd1-a")).config,
                                            weights: mappedExtra)) { error in
            XCTAssertTrue("\(error)".contains("controlnet_down_blocks.99"), "\(error)")
        }
        var stray = try InMemorySource(copying: file)
        stray.tensors["input_hint_block.1.weight"] = Tensor(shape: [1])
        XCTAssertThrowsError(try LDMControlNetLayout.detect(stray)) { error in
            XCTAssertTrue("\(error)".contains("input_hint_block"), "\(error)")
        }
        var missing = try InMemorySource(copying: file)
        missing.tensors["middle_block_out.0.bias"] = nil
        XCTAssertThrowsError(try LDMControlNetLayout.detect(missing).mapping(missing)) { error in
            XCTAssertTrue("\(error)".contains("middle_block_out.0.bias"), "\(error)")
        }
        XCTAssertThrowsError(try ControlNetFiles.open(path: Self.path("sdxl-a-ldm.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("label_emb.0.0 takes 88 inputs"), "\(error)")
        }
    }

    /// A shuffle model's sidecar cldm config (`global_average_pooling: True`) makes a single file pool.
    func testSidecarSaysGlobalPooling() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("cn-sidecar-\(UUID().uuidString)").path
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: dir) }
        let file = dir + "/shuffle.safetensors"
        try fm.createSymbolicLink(atPath: file, withDestinationPath: Self.path("sd1-a-ldm.safetensors"))
        let options = try Self.options(sdxl: false)
        XCTAssertFalse(try ControlNetFiles.open(path: file, options: options).config.globalPoolConditions)
        let yaml = "model:\n  params:\n    control_stage_config:\n      params:\n        global_average_pooling: True  # shuffle\n"
        fm.createFile(atPath: dir + "/shuffle.yaml", contents: Data(yaml.utf8))
        XCTAssertTrue(try ControlNetFiles.open(path: file, options: options).config.globalPoolConditions)
    }
}
