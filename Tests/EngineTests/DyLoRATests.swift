import Engine
import Foundation
import Models
import Tensor
import Weights
import XCTest

/// kohya DyLoRA files (scripts/fixtures/make_dylora_fixtures.py): as sd-scripts saves them (ordinary
/// lora_down/lora_up with the networks.dylora metadata) and as raw per-rank parts (`lora_A.<i>` / `lora_B.<i>`),
/// both applied as the LoRA they are; the per-rank split of sub/sd1_kohya matches that file's diffusers-side
/// reference.
final class DyLoRATests: XCTestCase {
    static let directory = LoRADirectory(path: PipelineFixtures.root.appendingPathComponent("lora/dylora").path)

    func testPerRankPartsMatchTheKohyaReference() throws {
        let c = try XCTUnwrap(try LoRAParityTests.cases().first { $0["name"] as? String == "sd1_kohya_te_unet" })
        var request = try XCTUnwrap(LoRAParityTests.adapters(c).first)
        request.name = "sd1_dylora_per_rank"
        let base = try LoRAParityTests.model("sd1")
        let adapted = try base.applying([request], directory: Self.directory)
        let report = try XCTUnwrap(adapted.reports.first)
        XCTAssertEqual(report.matched, report.total, "\(report.unmatched)")
        XCTAssertEqual(report.unmatchedCount, 0)
        let kohya = try LoRAFile(path: LoRAParityTests.directory.path + "/sub/sd1_kohya.safetensors")
        XCTAssertEqual(report.total, kohya.modules.count)
        let result = try StableDiffusionPipeline(model: adapted.model).run(try LoRAParityTests.request(c))
        let failures = try LoRAParityTests.compare("sd1_kohya_te_unet", result, try LoRAParityTests.references())
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testSavedLayoutPatchesAsItsModules() throws {
        let file = try LoRAFile(path: Self.directory.path + "/sd1_dylora.safetensors")
        let perRank = try LoRAFile(path: Self.directory.path + "/sd1_dylora_per_rank.safetensors")
        XCTAssertEqual(file.modules.count, 3)
        XCTAssertEqual(file.type, .locon)
        // The same modules assembled from parts are the saved factors, value for value.
        for module in file.modules {
            let other = try XCTUnwrap(perRank.modules.first { $0.key == module.key }, module.key)
            guard case let .lora(up, down, nil) = module.delta, case let .lora(up2, down2, nil) = other.delta else {
                return XCTFail("\(module.key) is not a plain LoRA")
            }
            XCTAssertEqual(up.shape, up2.shape, module.key)
            XCTAssertEqual(down.shape, down2.shape, module.key)
            XCTAssertEqual(up.scalars, up2.scalars, module.key)
            XCTAssertEqual(down.scalars, down2.scalars, module.key)
            XCTAssertEqual(module.alpha, other.alpha)
        }
        let base = try LoRAParityTests.model("sd1")
        let adapted = try base.applying([LoRARequest(name: "sd1_dylora", weight: 0.9, field: "loras[0]")], directory: Self.directory)
        XCTAssertEqual(adapted.reports[0].matched, 3)
        XCTAssertGreaterThan(adapted.patchedBytes, 0)
    }

    func testMissingRankPartIsRefusedNamingTheModule() throws {
        XCTAssertThrowsError(try LoRAFile(path: Self.directory.path + "/broken_dylora.safetensors")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("lora_te_encoder_layers_0_mlp_fc1") && text.contains("DyLoRA"), text)
        }
        let base = try LoRAParityTests.model("sd1")
        XCTAssertThrowsError(try base.applying([LoRARequest(name: "broken_dylora", field: "loras[0]")], directory: Self.directory)) { error in
            XCTAssertEqual((error as? LoRARequestError)?.field, "loras[0]")
        }
    }

    /// The weights each sd1_dylora module patches, by the module key the reference is stored under.
    static let targets: [(module: String, component: TextEncoderSlot?, weight: String)] = [
        ("lora_te_encoder_layers_0_mlp_fc1", .textEncoder, "text_model.encoder.layers.0.mlp.fc1.weight"),
        ("lora_unet_conv_in", nil, "conv_in.weight"),
        ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", nil,
         "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"),
    ]

    static func weight(_ model: LoadedModel, _ target: (module: String, component: TextEncoderSlot?, weight: String)) throws -> Tensor {
        let weights = try XCTUnwrap(model.networks.weights)
        let component = try XCTUnwrap(target.component.map { weights.textEncoders[$0] } ?? weights.unet, target.module)
        return try component.tensor(target.weight)
    }

    /// A1111's `dyn=2`: each module's first 2 ranks only, scale α over the full rank (the fixture script's numpy
    /// reference of `rebuild_conventional`): rank-4 modules change, the rank-2 one is whole.
    func testDynKeepsTheFirstRanksAsA1111Does() throws {
        let base = try LoRAParityTests.model("sd1")
        let adapted = try base.applying([LoRARequest(name: "sd1_dylora", weight: 0.75, dyn: 2, field: "loras[0]")],
                                        directory: Self.directory)
        XCTAssertEqual(adapted.reports.first?.dyn, 2)
        XCTAssertEqual(adapted.reports.first?.matched, 3)
        let full = try base.applying([LoRARequest(name: "sd1_dylora", weight: 0.75, field: "loras[0]")], directory: Self.directory)
        XCTAssertFalse(full.reused, "a dyn= set is its own set, not the full-rank one")
        let reference = try SafeTensorsFile(path: Self.directory.path + "/sd1_dylora_dyn2_delta.safetensors")
        for target in Self.targets {
            let before = try Self.weight(base, target).scalars
            let after = try Self.weight(adapted.model, target).scalars
            let whole = try Self.weight(full.model, target).scalars
            let expected = try reference.tensor(target.module).scalars
            XCTAssertEqual(expected.count, before.count, target.module)
            let scale = expected.map { abs($0) }.max() ?? 1
            var worst: Float = 0, fromWhole: Float = 0
            for i in before.indices {
                worst = max(worst, abs((after[i] - before[i]) - 0.75 * expected[i]))
                fromWhole = max(fromWhole, abs(after[i] - whole[i]))
            }
            XCTAssertLessThanOrEqual(worst, 1e-6 + 1e-5 * scale, target.module)
            if target.module == "lora_te_encoder_layers_0_mlp_fc1" {
                XCTAssertEqual(after, whole, "a rank-2 module with dyn=2 is the whole module")
            } else {
                XCTAssertGreaterThan(fromWhole, 1e-3 * scale, "\(target.module): dyn=2 must drop ranks 2 and 3")
            }
        }
    }

    /// As A1111 slices `[:, :dyn]`: a dyn at or above a module's rank keeps every rank, value for value.
    func testDynAtOrAboveTheRankIsTheWholeLoRA() throws {
        let base = try LoRAParityTests.model("sd1")
        let whole = try base.applying([LoRARequest(name: "sd1_dylora", field: "loras[0]")], directory: Self.directory)
        for dyn in [4, 5, 1000] {
            let adapted = try base.applying([LoRARequest(name: "sd1_dylora", dyn: dyn, field: "loras[0]")], directory: Self.directory)
            XCTAssertFalse(adapted.reused)
            XCTAssertEqual(adapted.reports.first?.dyn, dyn)
            for target in Self.targets {
                XCTAssertEqual(try Self.weight(adapted.model, target).scalars, try Self.weight(whole.model, target).scalars,
                               "dyn=\(dyn) \(target.module)")
            }
        }
    }

    func testDynBelowOneIsRefusedNamingTheLoRA() throws {
        let base = try LoRAParityTests.model("sd1")
        for dyn in [0, -3] {
            XCTAssertThrowsError(try base.applying([LoRARequest(name: "sd1_dylora", dyn: dyn, field: "loras[0]")],
                                                   directory: Self.directory)) { error in
                let refusal = error as? LoRARequestError
                XCTAssertEqual(refusal?.field, "loras[0]")
                let text = refusal?.reason ?? ""
                XCTAssertTrue(text.contains("sd1_dylora") && text.contains("dyn=\(dyn)"), text)
            }
        }
    }
}
