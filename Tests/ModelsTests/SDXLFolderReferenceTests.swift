import Foundation
import Models
import Tensor
import Weights
import XCTest

/// SDXL base, refiner and inpaint diffusers folders load and reproduce diffusers/transformers' outputs.
final class SDXLFolderReferenceTests: XCTestCase {
    /// float32 vs PyTorch float32 with different summation orders: ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4

    private func load(_ model: String) throws -> StableDiffusionModels {
        try ModelFiles.load(path: SDXLFixtures.path(model, "diffusers"))
    }

    func testUNetMatchesReference() throws {
        for model in SDXLFixtures.models {
            try ReferenceChecks.textTimeUNet(try load(model).unet, try SDXLFixtures.reference(model), model: model,
                                             tolerance: tolerance)
        }
    }

    func testVAEMatchesReference() throws {
        for model in SDXLFixtures.models {
            try ReferenceChecks.vae(try load(model).vae, try SDXLFixtures.reference(model), family: model,
                                    tolerance: tolerance)
        }
    }

    /// Both base encoders, and the refiner's only one (the same bigG weights), for the recorded ids: the
    /// raw penultimate states SDXL conditions on, the one before (diffusers' clip_skip 1), the final-normed
    /// states and the pooled output (projected for bigG: SDXL's `pooled_prompt_embeds`).
    func testTextEncodersMatchReference() throws {
        let reference = try SDXLFixtures.reference("base")
        let base = try load("base")
        let refiner = try load("refiner")
        let cases: [(String, String, LoadedTextEncoder?, String)] = [
            ("base text_encoder", "te1", base.textEncoder(.textEncoder), "te1.pooler_output"),
            ("base text_encoder_2", "te2", base.textEncoder(.textEncoder2), "te2.text_embeds"),
            ("refiner text_encoder_2", "te2", refiner.textEncoder(.textEncoder2), "te2.text_embeds"),
        ]
        for (what, prefix, loaded, pooledName) in cases {
            let encoder = try XCTUnwrap(loaded, what).encoder
            let ids = try SDXLFixtures.ids(reference, "\(prefix).input_ids")
            let layers = encoder.layersToRun
            let penultimate = try encoder.encode(ids: ids, states: .raw(layer: layers - 1), pooled: true)
            assertMatches(penultimate.states, try reference.tensor("\(prefix).hidden_m2"), tolerance: tolerance,
                          "\(what) hidden_states[-2]")
            assertMatches(try XCTUnwrap(penultimate.pooled, what), try reference.tensor(pooledName),
                          tolerance: tolerance, "\(what) pooled")
            assertMatches(try encoder.encode(ids: ids, states: .raw(layer: layers - 2), pooled: false).states,
                          try reference.tensor("\(prefix).hidden_m3"), tolerance: tolerance, "\(what) hidden_states[-3]")
            assertMatches(try encoder.encode(ids: ids), try reference.tensor("\(prefix).last_hidden_state"),
                          tolerance: tolerance, "\(what) last_hidden_state")
        }
    }

    /// Each folder tokenizer reproduces its encoder's recorded ids: tokenizer pads with EOS, tokenizer_2
    /// with "!" (id 0), which it also splits off the prompt.
    func testFolderTokenizersReproduceReferenceIDs() throws {
        let reference = try SDXLFixtures.reference("base")
        let prompts = try JSONDecoder().decode([String].self, from: Data(try XCTUnwrap(reference.metadata["te.prompts"]).utf8))
        let base = try load("base")
        for (slot, prefix) in [(TextEncoderSlot.textEncoder, "te1"), (.textEncoder2, "te2")] {
            let tokenizer = try XCTUnwrap(base.textEncoder(slot)).tokenizer
            XCTAssertEqual(tokenizer, .folder(path: SDXLFixtures.path("base", "diffusers/\(slot.tokenizerFolder)")))
            let loaded = try tokenizer.load()
            XCTAssertEqual(prompts.map { loaded.encode($0, maxLength: 77) }, try SDXLFixtures.ids(reference, "\(prefix).input_ids"),
                           slot.rawValue)
        }
    }

    func testFolderMetadata() throws {
        let base = try load("base")
        XCTAssertEqual(base.textEncoders.map(\.slot), [.textEncoder, .textEncoder2])
        XCTAssertEqual(base.flags, PipelineFlags(forceZerosForEmptyPrompt: true, requiresAestheticsScore: false))
        XCTAssertEqual(base.latentScale, 0.13025)
        XCTAssertTrue(base.vae.config.forceUpcast)
        XCTAssertEqual(base.predictionType, .epsilon)
        XCTAssertFalse(base.isInpainting)
        let textTime = try XCTUnwrap(base.unet.textTimeEmbedding)
        XCTAssertEqual(textTime.inputWidth, 88)
        XCTAssertEqual(textTime.timeIDWidth, 8)
        XCTAssertEqual(textTime.timeIDCount(textEmbedsWidth: 40), 6)
        XCTAssertNil(textTime.timeIDCount(textEmbedsWidth: 41))
        let textParameters = base.textEncoders.reduce(0) { $0 + $1.encoder.parameterCount }
        XCTAssertEqual(base.parameterBytes, (textParameters + base.unet.parameterCount + base.vae.parameterCount) * 4)
        XCTAssertGreaterThan(base.textEncoder(.textEncoder2)?.encoder.parameterCount ?? 0,
                             base.textEncoder(.textEncoder)?.encoder.parameterCount ?? 0, "bigG is the wider one")

        // The refiner's model_index names no text_encoder/tokenizer: bigG alone, the aesthetic-score time ids.
        let refiner = try load("refiner")
        XCTAssertEqual(refiner.textEncoders.map(\.slot), [.textEncoder2])
        XCTAssertNil(refiner.textEncoder(.textEncoder))
        XCTAssertEqual(refiner.flags, PipelineFlags(forceZerosForEmptyPrompt: false, requiresAestheticsScore: true))
        XCTAssertEqual(refiner.unet.textTimeEmbedding?.timeIDCount(textEmbedsWidth: 40), 5)
        XCTAssertEqual(refiner.textEncoder(.textEncoder2)?.tokenizer,
                       .folder(path: SDXLFixtures.path("refiner", "diffusers/tokenizer_2")))

        let inpaint = try load("inpaint")
        XCTAssertTrue(inpaint.isInpainting)
        XCTAssertEqual(inpaint.flags, PipelineFlags(forceZerosForEmptyPrompt: true, requiresAestheticsScore: false))

        // SD 1.x keeps its single encoder and has neither option.
        let sd1 = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers"))
        XCTAssertEqual(sd1.textEncoders.map(\.slot), [.textEncoder])
        XCTAssertEqual(sd1.flags, .none)
        XCTAssertNil(sd1.unet.textTimeEmbedding)
    }

    func testAddedConditioningIsRequiredAndShapeChecked() throws {
        let reference = try SDXLFixtures.reference("base")
        let unet = try load("base").unet
        let latents = try reference.tensor("unet.latents")
        let context = try reference.tensor("unet.context")
        XCTAssertThrowsError(try unet.forward(latents: latents, timesteps: [999, 421], context: context)) {
            XCTAssertEqual($0 as? UNetError, .addedConditioningMissing)
        }
        // Refiner-shaped time ids (5) leave add_embedding's 88 inputs short.
        let short = AddedConditioning(textEmbeds: Tensor(shape: [2, 40]), timeIDs: Tensor(shape: [2, 5]))
        XCTAssertThrowsError(try unet.forward(latents: latents, timesteps: [999, 421],
                                              conditioning: UNetConditioning(context: context, added: short))) {
            XCTAssertEqual($0 as? UNetError, .addedConditioningShape(textEmbeds: [2, 40], timeIDs: [2, 5], batch: 2,
                                                                      inputWidth: 88, timeIDWidth: 8))
        }
        let oneRow = AddedConditioning(textEmbeds: Tensor(shape: [1, 40]), timeIDs: Tensor(shape: [1, 6]))
        XCTAssertThrowsError(try unet.forward(latents: latents, timesteps: [999, 421],
                                              conditioning: UNetConditioning(context: context, added: oneRow))) {
            XCTAssertEqual($0 as? UNetError, .addedConditioningShape(textEmbeds: [1, 40], timeIDs: [1, 6], batch: 2,
                                                                      inputWidth: 88, timeIDWidth: 8))
        }
    }

    /// A base folder whose UNet lacks add_embedding.linear_1.weight is refused, naming the tensor.
    func testFolderWithoutAddEmbeddingIsRefused() throws {
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("sdxl-strict-\(getpid())")
        try? FileManager.default.removeItem(at: temp)
        try FileManager.default.copyItem(atPath: SDXLFixtures.path("base", "diffusers"), toPath: temp.path)
        defer { try? FileManager.default.removeItem(at: temp) }
        let unetFile = temp.appendingPathComponent("unet/diffusion_pytorch_model.safetensors").path
        var source = try InMemorySource(copying: try SafeTensorsFile(path: unetFile))
        let shape = try XCTUnwrap(source.tensors["add_embedding.linear_1.weight"]?.shape)
        XCTAssertEqual(shape, [32, 88], "time_embed_dim × projection_class_embeddings_input_dim")
        source.tensors["add_embedding.linear_1.weight"] = nil
        var writer = SafeTensorsWriter()
        for name in source.names { try writer.add(name, try source.tensor(name)) }
        try FileManager.default.removeItem(atPath: unetFile)
        try writer.write(to: unetFile)
        XCTAssertThrowsError(try ModelFiles.load(path: temp.path)) { error in
            guard case let .component(name, path, inner)? = error as? CheckpointError else {
                return XCTFail("expected a component error, got \(error)")
            }
            XCTAssertEqual(name, "unet")
            XCTAssertEqual(path, unetFile)
            XCTAssertEqual(inner, .missingTensor(name: "add_embedding.linear_1.weight", expectedShape: [32, 88]))
            XCTAssertTrue("\(error)".contains("add_embedding.linear_1.weight"), "\(error)")
        }
    }
}

extension ReferenceChecks {
    /// An SDXL UNet's prediction for the reference's latents, timesteps, context, text embeds and time ids.
    static func textTimeUNet(_ unet: UNet, _ reference: SafeTensorsFile, model: String, tolerance: Float,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let added = AddedConditioning(textEmbeds: try reference.tensor("unet.text_embeds"),
                                      timeIDs: try reference.tensor("unet.time_ids"))
        let prediction = try unet.forward(
            latents: try reference.tensor("unet.latents"), timesteps: try reference.tensor("unet.timesteps").scalars,
            conditioning: UNetConditioning(context: try reference.tensor("unet.context"), added: added))
        assertMatches(prediction, try reference.tensor("unet.noise_pred"), tolerance: tolerance,
                      "\(model) UNet prediction", file: file, line: line)
    }
}
