import Foundation
import Tensor
@testable import Weights
import XCTest

/// Single-file checkpoints of every fixture family, presented with diffusers names, must equal the
/// diffusers folder's tensors bit for bit, in both the safetensors and the .ckpt layout.
final class NameMappingTests: XCTestCase {
    static let families = ["sd1", "sd2v", "sd1-inpaint"]

    static func familyFolder(_ family: String) -> URL {
        Fixtures.repo.appendingPathComponent("Tests/Fixtures/sd").appendingPathComponent(family)
    }

    static func diffusersFile(_ family: String, _ component: String) throws -> SafeTensorsFile {
        let name = component == "text_encoder" ? "model.safetensors" : "diffusion_pytorch_model.safetensors"
        return try SafeTensorsFile(path: familyFolder(family).appendingPathComponent("diffusers/\(component)/\(name)").path)
    }

    static func singleFiles(_ family: String) throws -> [(String, any TensorSource)] {
        let folder = familyFolder(family)
        return [("single.safetensors", try SafeTensorsFile(path: folder.appendingPathComponent("single.safetensors").path)),
                ("single.ckpt", try TorchCheckpoint(path: folder.appendingPathComponent("single.ckpt").path))]
    }

    func assertSameTensors(_ mapped: MappedTensorSource, _ reference: any TensorSource, _ label: String,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(mapped.names, reference.names.sorted(), "\(label): names", file: file, line: line)
        for name in reference.names {
            XCTAssertEqual(mapped.shape(of: name), reference.shape(of: name), "\(label): shape of \(name)", file: file, line: line)
            guard mapped.shape(of: name) != nil else { continue }
            assertBitIdentical(try mapped.tensor(name), try reference.tensor(name), "\(label): \(name)", file: file, line: line)
        }
    }

    func testUNetMatchesDiffusersBitForBit() throws {
        for family in Self.families {
            let reference = try Self.diffusersFile(family, "unet")
            for (layout, single) in try Self.singleFiles(family) {
                try assertSameTensors(try LDMToDiffusers.unet(single), reference, "\(family)/\(layout) unet")
            }
        }
    }

    func testVAEMatchesDiffusersBitForBit() throws {
        for family in Self.families {
            let reference = try Self.diffusersFile(family, "vae")
            for (layout, single) in try Self.singleFiles(family) {
                let mapped = try LDMToDiffusers.vae(single)
                try assertSameTensors(mapped, reference, "\(family)/\(layout) vae")
                // LDM's 1x1-conv attention weights come out as diffusers' linear weights.
                XCTAssertEqual(mapped.origin(of: "decoder.mid_block.attentions.0.to_q.weight")?.transform, .squeezeConv1x1)
            }
        }
    }

    func testTextEncoderMatchesDiffusersBitForBit() throws {
        for family in Self.families {
            let reference = try Self.diffusersFile(family, "text_encoder")
            for (layout, single) in try Self.singleFiles(family) {
                try assertSameTensors(try LDMToDiffusers.textEncoder(single), reference, "\(family)/\(layout) text encoder")
            }
        }
    }

    func testOpenCLIPFusedProjectionIsCutIntoThirds() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd2v").appendingPathComponent("single.safetensors").path)
        let mapped = try LDMToDiffusers.textEncoder(single)
        let fused = try single.tensor("cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight").scalars
        let third = fused.count / 3
        for (part, name) in ["q_proj", "k_proj", "v_proj"].enumerated() {
            let piece = try mapped.tensor("text_model.encoder.layers.1.self_attn.\(name).weight")
            XCTAssertEqual(piece.shape, [32, 32])
            XCTAssertEqual(piece.scalars.map(\.bitPattern), fused[(part * third)..<((part + 1) * third)].map(\.bitPattern))
        }
    }

    func testOpenCLIPAllLayersExposesTheLayerSD2Skips() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd2v").appendingPathComponent("single.safetensors").path)
        let penultimate = try LDMToDiffusers.textEncoder(single)
        let all = try LDMToDiffusers.textEncoder(single, openCLIPDepth: .all)
        let extra = Set(all.names).subtracting(penultimate.names)
        // 4 layer norms/linears x (weight, bias) + q/k/v x (weight, bias) = 16 tensors of layer 3.
        XCTAssertEqual(extra.count, 16)
        XCTAssertTrue(extra.allSatisfy { $0.hasPrefix("text_model.encoder.layers.3.") }, "\(extra.sorted())")
    }

    func testUnprefixedTextEncoderFolderGetsTextModelNames() throws {
        let reference = try Self.diffusersFile("sd1", "text_encoder")
        // PrefixedSource strips "text_model.", giving the flattened names transformers >= 5.6 writes.
        let flattened = PrefixedSource(reference, prefix: "text_model.")
        XCTAssertEqual(flattened.names.count, reference.names.count)
        let view = try DiffusersFolderNames.textEncoder(flattened)
        XCTAssertEqual(view.names, reference.names.sorted())
        for name in reference.names { assertBitIdentical(try view.tensor(name), try reference.tensor(name), name) }
        // Already prefixed: passed through untouched.
        XCTAssertEqual(try DiffusersFolderNames.textEncoder(reference).names, reference.names)
        let mixed = EditedSource(reference, adding: ["embeddings.token_embedding.weight": [1000, 32]])
        XCTAssertThrowsError(try DiffusersFolderNames.textEncoder(mixed)) { error in
            XCTAssertEqual(error as? NameMappingError,
                           .unexpectedTensors(component: "text_encoder", names: ["embeddings.token_embedding.weight"]))
        }
    }

    // MARK: - Detection

    func readJSON(_ url: URL) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    func conventions(_ family: String) throws -> SingleFileConventions {
        var c = SingleFileConventions.stableDiffusion
        // The tiny fixtures cannot follow SD's head/group sizes (see make_sd_fixtures.py): their values.
        let info = try readJSON(Self.familyFolder(family).appendingPathComponent("family.json"))
        let declared = try XCTUnwrap(info["conventions"] as? [String: Int])
        if let heads = declared["sd1_heads"] { c.sd1AttentionHeads = heads }
        if let dim = declared["sd2_head_dim"] { c.sd2AttentionHeadDim = dim }
        c.textAttentionHeadDim = try XCTUnwrap(declared["text_head_dim"])
        c.unetNormGroups = try XCTUnwrap(declared["unet_norm_groups"])
        c.vaeNormGroups = try XCTUnwrap(declared["vae_norm_groups"])
        return c
    }

    /// JSON text of a value, so detected Swift values and parsed config values compare by content.
    func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]), as: UTF8.self)
    }

    func assertConfig(_ detected: [String: Any], matches url: URL, _ label: String,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try readJSON(url)
        for (key, value) in detected {
            let reference = try XCTUnwrap(expected[key], "\(label): \(key) missing in \(url.path)", file: file, line: line)
            XCTAssertEqual(try canonical(value), try canonical(reference),
                           "\(label): \(key) detected vs config.json", file: file, line: line)
        }
    }

    func testDetectionReproducesDiffusersConfigs() throws {
        for family in Self.families {
            let folder = Self.familyFolder(family).appendingPathComponent("diffusers")
            for (layout, single) in try Self.singleFiles(family) {
                let label = "\(family)/\(layout)"
                let arch = try SingleFileArchitecture.detect(single, conventions: try conventions(family))
                XCTAssertEqual(arch.family, family == "sd2v" ? .sd2 : .sd1, label)
                XCTAssertEqual(arch.isInpainting, family == "sd1-inpaint", label)
                try assertConfig(arch.unet.diffusersConfig, matches: folder.appendingPathComponent("unet/config.json"), label)
                let vae = try XCTUnwrap(arch.vae, label)
                try assertConfig(vae.diffusersConfig, matches: folder.appendingPathComponent("vae/config.json"), label)
                let text = try XCTUnwrap(arch.textEncoder, label)
                try assertConfig(text.diffusersConfig, matches: folder.appendingPathComponent("text_encoder/config.json"), label)
                XCTAssertEqual(text.storedLayers, family == "sd2v" ? 4 : 3, label)
            }
        }
    }

    func testSD1DetectionWithStableDiffusionConventionsKeepsEightHeads() throws {
        // The sd1 fixture follows SD1's real convention (8 heads), so the default conventions detect it too.
        let single = try SafeTensorsFile(path: Self.familyFolder("sd1").appendingPathComponent("single.safetensors").path)
        let arch = try SingleFileArchitecture.detect(single)
        XCTAssertEqual(arch.unet.attentionHeadDim, [8, 8])
        XCTAssertEqual(arch.unet.diffusersConfig["attention_head_dim"] as? Int, 8)
        XCTAssertEqual(arch.unet.useLinearProjection, false)
        XCTAssertEqual(arch.unet.crossAttentionDim, 32)
    }

    // MARK: - Strictness

    func testMissingTensorIsNamed() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd1").appendingPathComponent("single.safetensors").path)
        let name = "model.diffusion_model.output_blocks.1.0.emb_layers.1.bias"
        XCTAssertThrowsError(try LDMToDiffusers.unet(EditedSource(single, removing: [name]))) { error in
            XCTAssertEqual(error as? NameMappingError, .missingTensors(component: "unet", names: [name]))
            XCTAssertTrue("\(error)".contains(name))
        }
    }

    func testUnexpectedTensorIsNamed() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd2v").appendingPathComponent("single.safetensors").path)
        let extras = ["first_stage_model.decoder.mid.attn_1.extra.weight": [4],
                      "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight_scale": [1]]
        let edited = EditedSource(single, adding: extras)
        XCTAssertThrowsError(try LDMToDiffusers.vae(edited)) { error in
            XCTAssertEqual(error as? NameMappingError,
                           .unexpectedTensors(component: "vae", names: ["first_stage_model.decoder.mid.attn_1.extra.weight"]))
        }
        XCTAssertThrowsError(try LDMToDiffusers.textEncoder(edited)) { error in
            XCTAssertEqual(error as? NameMappingError, .unexpectedTensors(
                component: "text_encoder", names: ["cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight_scale"]))
        }
        // Tensors outside the component (e.g. the DDPM schedule buffers) are not the component's business.
        XCTAssertNoThrow(try LDMToDiffusers.unet(edited))
    }

    func testVAETrainingLossModuleIsDropped() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd1").appendingPathComponent("single.safetensors").path)
        let edited = EditedSource(single, adding: ["first_stage_model.loss.logvar": [],
                                                   "first_stage_model.loss.discriminator.main.0.weight": [8, 3, 4, 4]])
        let mapped = try LDMToDiffusers.vae(edited)
        XCTAssertEqual(mapped.names, try LDMToDiffusers.vae(single).names)
    }

    func testMissingSkippedOpenCLIPLayerIsNamed() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd2v").appendingPathComponent("single.safetensors").path)
        let name = "cond_stage_model.model.transformer.resblocks.3.mlp.c_fc.bias"
        XCTAssertThrowsError(try LDMToDiffusers.textEncoder(EditedSource(single, removing: [name]))) { error in
            XCTAssertEqual(error as? NameMappingError, .missingTensors(component: "text_encoder", names: [name]))
        }
    }

    func testFusedProjectionOfWrongShapeIsRefused() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd2v").appendingPathComponent("single.safetensors").path)
        let name = "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_bias"
        let edited = EditedSource(single, removing: [name], adding: [name: [95]])
        XCTAssertThrowsError(try LDMToDiffusers.textEncoder(edited)) { error in
            XCTAssertEqual(error as? NameMappingError, .shapeMismatch(
                component: "text_encoder", name: name, shape: [95], expected: "first dimension divisible by 3"))
        }
    }

    func testCheckpointWithoutComponentSaysSo() throws {
        let single = try SafeTensorsFile(path: Self.familyFolder("sd1").appendingPathComponent("single.safetensors").path)
        let withoutVAE = EditedSource(single, removing: single.names.filter { $0.hasPrefix("first_stage_model.") })
        XCTAssertThrowsError(try LDMToDiffusers.vae(withoutVAE)) { error in
            XCTAssertEqual(error as? NameMappingError, .componentNotFound(component: "vae", prefix: "first_stage_model."))
        }
        XCTAssertNil(try SingleFileArchitecture.detect(withoutVAE).vae)
        // Present but broken is an error, not "no VAE".
        let broken = EditedSource(single, removing: ["first_stage_model.quant_conv.weight"])
        XCTAssertThrowsError(try SingleFileArchitecture.detect(broken)) { error in
            guard case NameMappingError.unrecognisedStructure(component: "vae", _)? = error as? NameMappingError else {
                return XCTFail("\(error)")
            }
        }
    }
}

/// A checkpoint with tensors removed or (shape-only) tensors added, for strictness tests.
struct EditedSource: TensorSource {
    let base: any TensorSource
    let removed: Set<String>
    let added: [String: [Int]]
    let names: [String]

    init(_ base: any TensorSource, removing: [String] = [], adding: [String: [Int]] = [:]) {
        self.base = base
        self.removed = Set(removing)
        self.added = adding
        self.names = (base.names.filter { !Set(removing).contains($0) } + adding.keys).sorted()
    }

    func shape(of name: String) -> [Int]? {
        if let shape = added[name] { return shape }
        return removed.contains(name) ? nil : base.shape(of: name)
    }

    func tensor(_ name: String) throws -> Tensor {
        if let shape = added[name] { return Tensor(shape: shape) }
        guard !removed.contains(name) else { throw WeightsError.tensorNotFound(path: "<edited>", tensor: name) }
        return try base.tensor(name)
    }
}
