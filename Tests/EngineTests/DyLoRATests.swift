import Engine
import Foundation
import Models
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
}
