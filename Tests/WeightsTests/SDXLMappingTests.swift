import Foundation
import Tensor
@testable import Weights
import XCTest

/// SDXL single files (sgm layout, float16) mapped to diffusers names equal the diffusers folders' tensors
/// exactly (the fixtures are rounded to float16 values), refuse missing and stray tensors by name, and are
/// told apart from SD and from each other (base, refiner, 9-channel inpaint).
final class SDXLMappingTests: XCTestCase {
    static func model(_ model: String) -> URL {
        Fixtures.repo.appendingPathComponent("Tests/Fixtures/sdxl").appendingPathComponent(model)
    }

    static func single(_ model: String, _ file: String = "single.fp16.safetensors") throws -> SafeTensorsFile {
        try SafeTensorsFile(path: Self.model(model).appendingPathComponent(file).path)
    }

    static func folderFile(_ model: String, _ component: String) throws -> SafeTensorsFile {
        let name = component.hasPrefix("text_encoder") ? "model.safetensors" : "diffusion_pytorch_model.safetensors"
        return try SafeTensorsFile(path: Self.model(model).appendingPathComponent("diffusers/\(component)/\(name)").path)
    }

    static let files: [(model: String, file: String)] = [
        ("base", "single.fp16.safetensors"), ("base", "single-hfclipg.safetensors"),
        ("refiner", "single.fp16.safetensors"), ("inpaint", "single.fp16.safetensors"),
    ]

    func assertSameTensors(_ mapped: any TensorSource, _ reference: any TensorSource, _ label: String) throws {
        XCTAssertEqual(mapped.names, reference.names, "\(label): names")
        for name in reference.names where mapped.contains(name) {
            XCTAssertEqual(mapped.shape(of: name), reference.shape(of: name), "\(label): \(name) shape")
            guard mapped.shape(of: name) == reference.shape(of: name) else { continue }
            assertBitIdentical(try mapped.tensor(name), try reference.tensor(name), "\(label): \(name)")
        }
    }

    func testSingleFilesEqualTheirDiffusersFolders() throws {
        for (model, file) in Self.files {
            let label = "\(model)/\(file)"
            let components = try SDXLSingleFile.components(of: try Self.single(model, file))
            try assertSameTensors(components.unet, try Self.folderFile(model, "unet"), "\(label) unet")
            try assertSameTensors(components.vae, try Self.folderFile(model, "vae"), "\(label) vae")
            try assertSameTensors(components.textEncoder2, try Self.folderFile(model, "text_encoder_2"), "\(label) text_encoder_2")
            if model == "refiner" {
                XCTAssertNil(components.textEncoder1, label)
            } else {
                try assertSameTensors(try XCTUnwrap(components.textEncoder1, label), try Self.folderFile(model, "text_encoder"),
                                      "\(label) text_encoder")
            }
        }
    }

    /// A .ckpt (torch zip, float16 tensors under `state_dict`) maps exactly like the safetensors file.
    func testCkptEqualsItsDiffusersFolder() throws {
        let checkpoint = try TorchCheckpoint(path: Self.model("base").appendingPathComponent("single.ckpt").path)
        let components = try SDXLSingleFile.components(of: checkpoint)
        try assertSameTensors(components.unet, try Self.folderFile("base", "unet"), "base/single.ckpt unet")
        try assertSameTensors(components.vae, try Self.folderFile("base", "vae"), "base/single.ckpt vae")
        try assertSameTensors(try XCTUnwrap(components.textEncoder1), try Self.folderFile("base", "text_encoder"),
                              "base/single.ckpt text_encoder")
        try assertSameTensors(components.textEncoder2, try Self.folderFile("base", "text_encoder_2"),
                              "base/single.ckpt text_encoder_2")
    }

    /// bfloat16 storage decodes to torch's float32 upcast: per-tensor sums from make_sdxl_dtype_fixtures.py.
    func testBFloat16FileDecodesAsTorchDoes() throws {
        let file = try Self.single("refiner", "single.bf16.safetensors")
        let sums = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.model("refiner")
            .appendingPathComponent("bf16-checksums.json"))) as? [String: [String: Double]])
        XCTAssertEqual(Set(sums.keys), Set(file.names.filter { file.dtype(of: $0) == .bf16 }))
        for (name, expected) in sums {
            let values = try file.tensor(name).scalars.map(Double.init)
            let sum = values.reduce(0, +), sumsq = values.reduce(0) { $0 + $1 * $1 }
            XCTAssertEqual(sum, try XCTUnwrap(expected["sum"]), accuracy: 1e-9 * max(1, abs(sum)), name)
            XCTAssertEqual(sumsq, try XCTUnwrap(expected["sumsq"]), accuracy: 1e-9 * max(1, sumsq), name)
        }
        XCTAssertEqual(try ModelFamilies.recognise(singleFile: file).id, .sdxlRefiner)
    }

    func testOpenCLIPProjectionIsTransposed() throws {
        let file = try Self.single("base")
        XCTAssertEqual(file.shape(of: "conditioner.embedders.1.model.text_projection"), [48, 40])
        let view = try SDXLFamily().diffusersView(of: .textEncoder2, in: file)
        XCTAssertEqual(view.shape(of: "text_projection.weight"), [40, 48])
        XCTAssertEqual(view.origin(of: "text_projection.weight")?.transform, .transpose)
        let hf = try SDXLFamily().diffusersView(of: .textEncoder2, in: try Self.single("base", "single-hfclipg.safetensors"))
        XCTAssertEqual(hf.origin(of: "text_projection.weight")?.transform, .identity)
    }

    func testFamiliesAreRecognised() throws {
        for (model, file) in Self.files {
            let family = try ModelFamilies.recognise(singleFile: try Self.single(model, file))
            XCTAssertEqual(family.id, model == "refiner" ? .sdxlRefiner : .sdxl, "\(model)/\(file)")
            let arch = try family.architecture(of: try Self.single(model, file), conventions: family.conventions)
            XCTAssertEqual(arch.isInpainting, model == "inpaint", "\(model)/\(file)")
        }
    }

    func testTinyArchitecturesMatchTheirConfigs() throws {
        for (model, file) in Self.files {
            let label = "\(model)/\(file)"
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(
                with: Data(contentsOf: Self.model(model).appendingPathComponent("family.json"))) as? [String: Any])
            let unetConfig = try XCTUnwrap(json["unet"] as? [String: Any])
            let headsPerLevel = try XCTUnwrap(unetConfig["attention_head_dim"] as? [Int])
            // The tiny fixtures' head widths (8 and 4 channels) are not SDXL's 64: passed as conventions, as
            // the SD tests pass theirs. Text heads: 32/4 = 8 and 48/3 = 16 channels.
            let headDim = 16 / headsPerLevel[1]
            let conventions = SingleFileConventions(
                sd1AttentionHeads: 8, sd2AttentionHeadDim: 64, textAttentionHeadDim: 8, unetNormGroups: 4, vaeNormGroups: 4,
                vaeScalingFactor: 0.13025, sdxlAttentionHeadDim: headDim, secondTextAttentionHeadDim: 16)
            let arch = try SingleFileArchitecture.detect(try Self.single(model, file), conventions: conventions)
            let config = arch.unet.diffusersConfig
            for key in ["in_channels", "block_out_channels", "layers_per_block", "down_block_types", "up_block_types",
                        "cross_attention_dim", "use_linear_projection", "addition_embed_type", "addition_time_embed_dim",
                        "projection_class_embeddings_input_dim", "norm_num_groups"] {
                XCTAssertEqual(try canonical(config[key] as Any), try canonical(unetConfig[key] as Any), "\(label) unet \(key)")
            }
            XCTAssertEqual(arch.unet.transformerLayersPerBlock, try XCTUnwrap(unetConfig["transformer_layers_per_block"] as? [Int]),
                           label)
            // Level 0 has no attention: its head count is never used (the refiner's config says 1 there).
            XCTAssertEqual(arch.unet.attentionHeadDim[1], headsPerLevel[1], label)
            let vae = try XCTUnwrap(arch.vae, label)
            XCTAssertEqual(vae.scalingFactor, 0.13025, label)
            XCTAssertEqual(vae.blockOutChannels, [8, 16], label)
            let text2 = try XCTUnwrap(arch.textEncoder2, label)
            let text2Config = try XCTUnwrap(json["text_encoder_2"] as? [String: Any])
            for (key, value) in text2.diffusersConfig {
                XCTAssertEqual(try canonical(value), try canonical(try XCTUnwrap(text2Config[key], key)), "\(label) te2 \(key)")
            }
            if model == "refiner" {
                XCTAssertNil(arch.textEncoder, label)
            } else {
                let text1Config = try XCTUnwrap(json["text_encoder"] as? [String: Any])
                for (key, value) in try XCTUnwrap(arch.textEncoder, label).diffusersConfig {
                    XCTAssertEqual(try canonical(value), try canonical(try XCTUnwrap(text1Config[key], key)), "\(label) te1 \(key)")
                }
            }
        }
    }

    func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]), as: UTF8.self)
    }

    // MARK: - Strictness

    func testMissingTensorIsNamed() throws {
        let cases: [(String, String, SingleFileComponent)] = [
            ("base", "model.diffusion_model.label_emb.0.2.bias", .unet),
            ("base", "model.diffusion_model.output_blocks.0.1.transformer_blocks.1.attn2.to_k.weight", .unet),
            ("base", "conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", .textEncoder),
            ("base", "conditioner.embedders.1.model.transformer.resblocks.2.attn.in_proj_bias", .textEncoder2),
            ("refiner", "conditioner.embedders.0.model.ln_final.bias", .textEncoder2),
        ]
        for (model, name, component) in cases {
            let edited = EditedSource(try Self.single(model), removing: [name])
            XCTAssertThrowsError(try SDXLSingleFile.components(of: edited), name) { error in
                XCTAssertEqual(error as? NameMappingError, .missingTensors(component: component.rawValue, names: [name]))
                XCTAssertTrue("\(error)".contains(name), "\(error)")
            }
        }
        // The projection is what the pooled embedding needs: without it the file is refused by name too.
        let projection = "conditioner.embedders.1.model.text_projection"
        XCTAssertThrowsError(try SDXLSingleFile.components(of: EditedSource(try Self.single("base"), removing: [projection]))) {
            XCTAssertTrue("\($0)".contains(projection), "\($0)")
        }
    }

    func testStrayTensorIsNamed() throws {
        let cases: [(String, String, String)] = [
            ("base", "model.diffusion_model.label_emb.0.1.weight", "unet"),
            ("base", "conditioner.embedders.1.model.transformer.resblocks.0.attn.extra", "text_encoder_2"),
            ("base", "conditioner.embedders.0.transformer.text_model.extra.weight", "text_encoder"),
            ("base", "conditioner.embedders.2.model.token_embedding.weight", "text_encoder"),
            ("refiner", "conditioner.embedders.1.model.positional_embedding", "text_encoder_2"),
        ]
        for (model, name, component) in cases {
            let edited = EditedSource(try Self.single(model), adding: [name: [4]])
            XCTAssertThrowsError(try SDXLSingleFile.components(of: edited), name) { error in
                XCTAssertEqual(error as? NameMappingError, .unexpectedTensors(component: component, names: [name]))
                XCTAssertTrue("\(error)".contains(name), "\(error)")
            }
        }
    }

    func testProjectionOfWrongRankIsRefused() throws {
        let name = "conditioner.embedders.1.model.text_projection"
        let edited = EditedSource(try Self.single("base"), removing: [name], adding: [name: [48, 40, 1]])
        XCTAssertThrowsError(try SDXLFamily().diffusersView(of: .textEncoder2, in: edited)) { error in
            XCTAssertEqual(error as? NameMappingError,
                           .shapeMismatch(component: "text_encoder_2", name: name, shape: [48, 40, 1], expected: "[hidden, projection]"))
        }
    }

    func testSDLayoutsStayWithSD() throws {
        // SD's families keep their files; SDXL claims none of them.
        for family in NameMappingTests.families {
            for (layout, single) in try NameMappingTests.singleFiles(family) {
                XCTAssertFalse(SDXLFamily().recognises(singleFile: single), "\(family)/\(layout)")
                XCTAssertFalse(SDXLRefinerFamily().recognises(singleFile: single), "\(family)/\(layout)")
            }
        }
    }

    func testFoldersAreRecognisedByTheirConfigs() throws {
        let base = DiffusersFolderSummary(textEncoderHiddenAct: "quick_gelu", unetCrossAttentionDim: 80,
                                          unetAdditionEmbedType: "text_time", unetProjectionClassEmbeddingsInputDim: 88,
                                          unetAdditionTimeEmbedDim: 8, hasTextEncoder2: true, textEncoder2ProjectionDim: 40)
        XCTAssertEqual(try ModelFamilies.recognise(folder: base).id, .sdxl)
        var refiner = base
        refiner.textEncoderHiddenAct = nil
        refiner.unetProjectionClassEmbeddingsInputDim = 80
        XCTAssertEqual(try ModelFamilies.recognise(folder: refiner).id, .sdxlRefiner)
        // model_index's requires_aesthetics_score decides when present.
        var said = base
        said.requiresAestheticsScore = true
        XCTAssertEqual(try ModelFamilies.recognise(folder: said).id, .sdxlRefiner)
        said.requiresAestheticsScore = false
        XCTAssertEqual(try ModelFamilies.recognise(folder: said).id, .sdxl)
        // Without text_time it is SD.
        XCTAssertEqual(try ModelFamilies.recognise(folder: DiffusersFolderSummary(
            textEncoderHiddenAct: "quick_gelu", unetCrossAttentionDim: 768, hasTextEncoder2: false)).id, .sd1)
    }

    func testConventions() {
        for family in [SDXLFamily() as any ModelFamily, SDXLRefinerFamily()] {
            XCTAssertEqual(family.conventions.vaeScalingFactor, 0.13025)
            XCTAssertEqual(family.conventions.sdxlAttentionHeadDim, 64)
            XCTAssertEqual(family.defaultParameterisation(globalStep: nil, unetInChannels: 4), .epsilon)
            XCTAssertEqual(family.defaultImageSize, 1024)
            XCTAssertEqual(family.tokenizer(for: .textEncoder2), .openCLIP)
        }
        XCTAssertEqual(SDXLFamily().tokenizer(for: .textEncoder), .openAICLIP)
        XCTAssertEqual(SDXLFamily().singleFileComponents, [.unet, .vae, .textEncoder, .textEncoder2])
        XCTAssertEqual(SDXLRefinerFamily().singleFileComponents, [.unet, .vae, .textEncoder2])
        XCTAssertEqual(SDXLFamily.timeIDs, 6)
        XCTAssertEqual(SDXLRefinerFamily.timeIDs, 5)
        XCTAssertEqual(SD1Family().defaultImageSize, 512)
    }
}
