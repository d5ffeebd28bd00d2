import Engine
@testable import Models
import Tensor
import Weights
import XCTest

/// 16-bit resident weights (`--weights half`, fp16 checkpoints) are widened slice by slice straight into a
/// LoRA's copies: the merged bits equal those of merging into their float32 widening, for the low-rank path
/// (kohya, LoCon, PEFT) and the ΔW path (LoHa, full, DoRA).
final class LoRAHalfResidencyTests: XCTestCase {
    func testMergingIntoHalfWeightsEqualsMergingIntoTheirWidening() throws {
        let saved = WeightResidency.processDefault
        WeightResidency.processDefault = .half
        defer { WeightResidency.processDefault = saved }
        let model = try LoadedModel.load(name: "sd1", path: PipelineFixtures.modelFolder("sd1"))
        let half = model.networks
        let weights = try XCTUnwrap(half.weights)
        XCTAssertTrue(weights.unet.tensors.values.contains { $0.elementType != .float32 }, "the model holds 16-bit weights")
        func widened(_ component: ComponentWeights) -> ComponentWeights {
            ComponentWeights(tensors: component.tensors.mapValues { $0.widenedToFloat32() }, shapes: component.shapes)
        }
        let wide = half.replacing(textEncoders: half.textEncoders, unet: half.unet,
                                  weights: NetworkWeights(unet: widened(weights.unet), textEncoders: weights.textEncoders.mapValues(widened)))
        let applications = try ["sub/sd1_kohya", "sd1_locon_cp", "sd1_peft", "sd1_loha", "sd1_full", "sd1_dora"].map { name in
            LoRAApplication(file: try LoRAFile(path: try LoRAParityTests.directory.resolve(name).path),
                            textEncoderWeight: 0.8, unetWeight: -0.6)
        }
        for adapters in [applications, [applications[0]], [applications[3]]] {
            let fromHalf = try XCTUnwrap(try LoRAPatcher.patch(half, with: adapters).models.weights)
            let fromWide = try XCTUnwrap(try LoRAPatcher.patch(wide, with: adapters).models.weights)
            var compared = 0
            for (name, merged) in fromHalf.unet.tensors where !(weights.unet.tensors[name].map { $0.storage === merged.storage } ?? false) {
                XCTAssertEqual(merged.elementType, .float32, name)
                XCTAssertEqual(merged.scalars.map(\.bitPattern), try fromWide.unet.tensor(name).scalars.map(\.bitPattern), name)
                compared += 1
            }
            XCTAssertGreaterThan(compared, 10, "the adapters patched UNet weights")
        }
    }
}
