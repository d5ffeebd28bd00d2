import Engine
import Foundation
import Models
import Weights
import XCTest

/// The header-only footprints admission control adds for adapters, and the per-file-version cache that keeps
/// it from re-reading headers on every request.
final class AdmissionFootprintTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// For every module of every fixture LoRA / LyCORIS file (LoRA, LoCon with and without CP core, LoHa, LoKr,
    /// full, DoRA; kohya, PEFT and diffusers spellings; a pickle), the element count read from the headers is
    /// one `LoRAMath.delta` builds ΔW of: the size of the base weight it patches.
    func testLoRAPatchElementsAreTheSizeOfTheDelta() throws {
        let folder = Self.fixtures + "/lora/loras"
        var checked = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        where name.hasSuffix(".safetensors") || name.hasSuffix(".pt") {
            let path = folder + "/" + name
            guard let file = try? LoRAFile(path: path) else { continue }  // corrupt.safetensors
            let source: any TensorSource = name.hasSuffix(".pt") ? try TorchCheckpoint(path: path) : try SafeTensorsFile(path: path)
            let elements = LoRAPatchFootprint.patchedElements(source: source)
            for module in file.modules {
                let n = try XCTUnwrap(elements[module.key], "\(name) \(module.key)")
                let out: Int
                switch module.delta {
                case let .lora(up, _, _): out = up.shape[0]
                case let .loha(w1a, _, _, _, t1, _): out = t1 == nil ? w1a.shape[0] : w1a.shape[1]
                case let .lokr(w1, w2, t2):
                    let a: Int, c: Int
                    switch w1 { case let .whole(w): a = w.shape[0]; case let .product(p, _): a = p.shape[0] }
                    switch w2 {
                    case let .whole(w): c = w.shape[0]
                    case let .product(p, _): c = t2 == nil ? p.shape[0] : p.shape[1]
                    }
                    out = a * c
                case let .full(diff, _): out = diff.shape[0]
                }
                XCTAssertEqual(n % out, 0, "\(name) \(module.key)")
                XCTAssertNotNil(LoRAMath.delta(module, shape: [out, n / out]), "\(name) \(module.key): \(n) elements")
                checked += 1
            }
            let own = source.names.reduce(0) { $0 + (source.shape(of: $1) ?? []).reduce(1, *) }
            XCTAssertEqual(try LoRAPatchFootprint.bytes(path: path), (own + elements.values.reduce(0, +)) * 4, name)
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// A non-resident model's headers are read once per file version: a second estimate reads nothing, a file
    /// whose modification time changed is read again.
    func testHeadersAreReadOncePerFileVersion() throws {
        let fm = FileManager.default
        let root = fm.temporaryDirectory.appendingPathComponent("footprint-cache-\(getpid())-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: root) }
        try fm.createDirectory(atPath: root + "/controlnet", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root + "/tiny", withDestinationPath: Self.fixtures + "/sd/sd1/diffusers")
        try fm.copyItem(atPath: Self.fixtures + "/controlnet/models/sd1-a", toPath: root + "/controlnet/net")
        let host = ModelHost(directory: root)

        let before = FootprintCache.readCount
        let first = try host.stableDiffusionFootprint(named: "tiny")
        XCTAssertEqual(FootprintCache.readCount, before + 1)
        XCTAssertEqual(try host.stableDiffusionFootprint(named: "tiny").footprint, first.footprint)
        let net = try host.controlNetFootprint(named: "net")
        XCTAssertEqual(FootprintCache.readCount, before + 2)
        XCTAssertFalse(net.resident)
        XCTAssertEqual(try host.controlNetFootprint(named: "net").weightBytes, net.weightBytes)
        XCTAssertEqual(FootprintCache.readCount, before + 2, "unchanged files: no header read")

        let weights = root + "/controlnet/net/diffusion_pytorch_model.safetensors"
        try fm.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: weights)
        XCTAssertEqual(try host.controlNetFootprint(named: "net").weightBytes, net.weightBytes)
        XCTAssertEqual(FootprintCache.readCount, before + 3, "a changed file is read again")
    }
}
