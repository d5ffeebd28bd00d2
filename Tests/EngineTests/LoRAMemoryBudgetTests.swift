import Engine
import Foundation
import Models
import XCTest

/// The patched copies of a checkpoint's kept LoRA set count against the memory budget and are reported per model.
final class LoRAMemoryBudgetTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lora-budget-\(UUID().uuidString)")
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tiny1").path, withDestinationPath: PipelineFixtures.modelFolder("sd1"))
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tiny2v").path, withDestinationPath: PipelineFixtures.modelFolder("sd2v"))
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("loras").path,
                                  withDestinationPath: LoRAParityTests.root.appendingPathComponent("loras").path)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testPatchedCopiesAreCountedReportedAndMakeRoom() throws {
        let probe = ModelHost(directory: dir.path)
        let sd1Bytes = try probe.stableDiffusion(named: "tiny1").bytes
        let sd2Bytes = try probe.stableDiffusion(named: "tiny2v").bytes

        let host = ModelHost(directory: dir.path, budgetBytes: sd1Bytes + sd2Bytes)
        _ = try host.stableDiffusion(named: "tiny2v")
        let sd1 = try host.stableDiffusion(named: "tiny1")
        XCTAssertEqual(host.residentModels().map(\.patchedBytes), [0, 0])
        XCTAssertEqual(host.residentBytes, sd1Bytes + sd2Bytes)

        let adapted = try sd1.applying([LoRARequest(name: "sd1_locon", weight: 0.7, field: "loras[0]")],
                                       directory: LoRADirectory(modelsDirectory: dir.path))
        XCTAssertGreaterThan(adapted.patchedBytes, 0)
        // The copies are exactly the tensors that differ from the base.
        let base = try XCTUnwrap(sd1.networks.weights), patched = try XCTUnwrap(adapted.model.networks.weights)
        var copied = 0
        for (name, tensor) in patched.unet.tensors where base.unet.tensors[name]?.storage !== tensor.storage {
            copied += tensor.count * MemoryLayout<Float>.size
        }
        for (slot, component) in patched.textEncoders {
            for (name, tensor) in component.tensors where base.textEncoders[slot]?.tensors[name]?.storage !== tensor.storage {
                copied += tensor.count * MemoryLayout<Float>.size
            }
        }
        XCTAssertEqual(adapted.patchedBytes, copied)
        XCTAssertEqual(sd1.loraCache.patchedBytes, adapted.patchedBytes)

        // Reported per model at once; the budget, now exceeded, evicts the other model when re-checked.
        let info = try XCTUnwrap(host.residentModels().first { $0.key.name == "tiny1" })
        XCTAssertEqual(info.patchedBytes, adapted.patchedBytes)
        XCTAssertEqual(info.bytes, sd1Bytes + adapted.patchedBytes)
        host.adaptersChanged(on: sd1)
        XCTAssertEqual(host.residentModels().map(\.key.name), ["tiny1"], "the least recently used other model gave way")
        XCTAssertEqual(host.residentBytes, sd1Bytes + adapted.patchedBytes)

        // Reusing the set costs nothing more; dropping it frees the count.
        _ = try sd1.applying([LoRARequest(name: "sd1_locon", weight: 0.7, field: "loras[0]")],
                             directory: LoRADirectory(modelsDirectory: dir.path))
        XCTAssertEqual(host.residentBytes, sd1Bytes + adapted.patchedBytes)
        sd1.loraCache.clear()
        XCTAssertEqual(host.residentBytes, sd1Bytes)
        XCTAssertEqual(host.residentModels().first?.patchedBytes, 0)
    }

    func testAModelWhosePatchExceedsTheBudgetStaysAlone() throws {
        let host = ModelHost(directory: dir.path, budgetBytes: 1)
        let sd1 = try host.stableDiffusion(named: "tiny1")
        _ = try sd1.applying([LoRARequest(name: "sd1_full", field: "loras[0]")], directory: LoRADirectory(modelsDirectory: dir.path))
        host.adaptersChanged(on: sd1)
        XCTAssertEqual(host.residentModels().map(\.key.name), ["tiny1"])
    }
}
