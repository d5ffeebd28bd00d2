import Engine
@testable import Models
import Tensor
import Weights
import XCTest

/// 16-bit resident weights (`--weights half`, fp16 checkpoints) are widened slice by slice straight into a
/// LoRA's copies: the merged bits equal those of merging into their float32 widening, for the low-rank path
/// (kohya, LoCon, PEFT) and the ΔW path (LoHa, full, DoRA). With `--weights half` the merged copies are fp16,
/// the one rounding of those same float32 sums.
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
        func halfWords(_ tensor: Tensor) -> [UInt16] {
            Array(UnsafeBufferPointer(start: tensor.storage.address.assumingMemoryBound(to: UInt16.self), count: tensor.count))
        }
        // The kohya LoRA alone takes the fused path (each weight touched once, rounded block by block), LoHa the
        // ΔW path, all six together weights touched several times (rounded after the last adapter).
        for adapters in [applications, [applications[0]], [applications[3]]] {
            let fromWide = try XCTUnwrap(try LoRAPatcher.patch(wide, with: adapters, residency: .half).models.weights)
            // Kept in float32 (`--weights stored` on an fp16 checkpoint): the same bits as merging into the widening.
            let kept = try XCTUnwrap(try LoRAPatcher.patch(half, with: adapters, residency: .stored).models.weights)
            // `--weights half`: the fp16 rounding of those float32 sums, made once.
            let rounded = try LoRAPatcher.patch(half, with: adapters, residency: .half)
            let fromHalf = try XCTUnwrap(rounded.models.weights)
            var (compared, narrowed, patchedBytes) = (0, 0, 0)
            for (name, merged) in fromHalf.unet.tensors where !(weights.unet.tensors[name].map { $0.storage === merged.storage } ?? false) {
                let wideMerge = try fromWide.unet.tensor(name)
                XCTAssertEqual(wideMerge.elementType, .float32, name)
                XCTAssertEqual(try kept.unet.tensor(name).scalars.map(\.bitPattern), wideMerge.scalars.map(\.bitPattern), name)
                let baseType = try weights.unet.tensor(name).elementType
                if baseType == .float32 {
                    XCTAssertEqual(merged.elementType, .float32, "\(name): float32 in the base stays float32")
                    XCTAssertEqual(merged.scalars.map(\.bitPattern), wideMerge.scalars.map(\.bitPattern), name)
                } else {
                    XCTAssertEqual(merged.elementType, .float16, name)
                    XCTAssertFalse(merged.storage.isWritable, "\(name): merged weights are read-only")
                    let reference = try XCTUnwrap(wideMerge.storage.narrowed(to: .float16, exactOnly: false))
                    XCTAssertEqual(halfWords(merged), halfWords(Tensor(shape: wideMerge.shape, storage: reference)), name)
                    narrowed += 1
                }
                patchedBytes += merged.byteCount
                compared += 1
            }
            XCTAssertGreaterThan(compared, 10, "the adapters patched UNet weights")
            XCTAssertGreaterThan(narrowed, 10, "merged 16-bit weights are kept as fp16")
            let textBytes = fromHalf.textEncoders.reduce(0) { sum, entry in
                sum + entry.value.tensors.filter { name, tensor in
                    !(weights.textEncoders[entry.key]?.tensors[name].map { $0.storage === tensor.storage } ?? false)
                }.values.reduce(0) { $0 + $1.byteCount }
            }
            XCTAssertEqual(rounded.patchedBytes, patchedBytes + textBytes, "the kept set is counted as it is held")
        }
    }
}
