import Engine
import Foundation
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// A1111 hypernetworks against Tests/Fixtures/embeddings (scripts/fixtures/make_embedding_fixtures.py): whole
/// txt2img runs against diffusers' pipeline with an attention processor that applies A1111's modules (diffusers
/// has no hypernetwork loader), the legacy torch format, stacking, and the refusals.
final class HypernetworkParityTests: XCTestCase {
    static let folder = EmbeddingParityTests.root.appendingPathComponent("models/hypernetworks")

    static func network(_ name: String) throws -> Hypernetwork {
        try Hypernetwork.load(path: folder.appendingPathComponent("\(name).pt").path, name: name)
    }

    func testRunsMatchTorchReference() throws {
        let cases = try EmbeddingParityTests.cases(kind: "hypernetwork")
        XCTAssertEqual(cases.count, 2, "fixture cases missing")
        let refs = try EmbeddingParityTests.references()
        let model = try EmbeddingParityTests.model("sd1")
        var failures: [String] = []
        for c in cases {
            let name = c["name"] as? String ?? "?"
            var request = try EmbeddingParityTests.request(c, model: model)
            let nets = c["nets"] as? [[Any]] ?? []
            request.hypernetworks = HypernetworkStack(entries: try nets.map { pair in
                guard let n = pair.first as? String, let w = (pair.last as? NSNumber)?.floatValue else { throw CocoaError(.coderInvalidValue) }
                return HypernetworkStack.Entry(network: try Self.network(n), strength: w)
            })
            XCTAssertEqual(request.hypernetworks.entries.count, nets.count, name)
            failures += try EmbeddingParityTests.compare(try StableDiffusionPipeline(model: model).run(request), name, refs: refs)
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testFilesAndWidths() throws {
        let legacy = try Self.network("legacy")
        XCTAssertEqual(legacy.widths, [16, 32])
        let modern = try Self.network("modern")
        XCTAssertEqual(modern.widths, [16, 24, 32, 64])
        let sd1 = try EmbeddingParityTests.model("sd1")
        let widths = sd1.networks.unet.attentionContextWidths
        XCTAssertEqual(widths, [16, 24, 32], "self-attention at 16 and 24 channels, cross-attention at 32")
        XCTAssertEqual(modern.matched(modelWidths: widths), [16, 24, 32])
        XCTAssertNoThrow(try legacy.check(modelWidths: widths))
        let nomatch = try Self.network("nomatch")
        XCTAssertThrowsError(try nomatch.check(modelWidths: widths)) { error in
            XCTAssertEqual(error as? HypernetworkError, .noMatchingWidth(name: "nomatch", widths: [40], modelWidths: [16, 24, 32]))
        }
        // Strength 0 is the plain model, bit for bit.
        var request = GenerationRequest(prompt: "a red fox")
        request.width = 32
        request.height = 32
        request.steps = 2
        let plain = try StableDiffusionPipeline(model: sd1).run(request)
        request.hypernetworks = HypernetworkStack(entries: [.init(network: legacy, strength: 0)])
        XCTAssertEqual(try StableDiffusionPipeline(model: sd1).run(request).latents.scalars, plain.latents.scalars)
    }

    /// Adapters never touch the resident model: a plain run after one with a hypernetwork and an embedding is bit
    /// for bit the plain run before it.
    func testPlainRunAfterAdaptersIsUnchanged() throws {
        let model = try EmbeddingParityTests.model("sd1")
        var request = GenerationRequest(prompt: "fluffstyle fox")
        request.width = 32
        request.height = 32
        request.steps = 2
        let before = try StableDiffusionPipeline(model: model).run(request).latents.scalars
        var adapted = request
        adapted.embeddings = try EmbeddingParityTests.resolve(request.prompt, "", model: model)
        adapted.hypernetworks = HypernetworkStack(entries: [.init(network: try Self.network("modern"), strength: 0.6)])
        let with = try StableDiffusionPipeline(model: model).run(adapted).latents.scalars
        XCTAssertNotEqual(with, before)
        XCTAssertEqual(try StableDiffusionPipeline(model: model).run(request).latents.scalars, before)
    }

    /// The PNG `parameters` text carries the applied hypernetworks as tags, so re-sending its prompt repeats the run.
    func testParametersTextCarriesHypernetworkTags() throws {
        var request = GenerationRequest(prompt: "a fox")
        request.hypernetworks = HypernetworkStack(entries: [.init(network: try Self.network("modern"), strength: 0.6),
                                                            .init(network: try Self.network("legacy"), strength: 1)])
        let text = GenerationInfo.parameters(request, seed: 1, modelName: "tiny")
        XCTAssertTrue(text.hasPrefix("a fox <hypernet:modern:0.6> <hypernet:legacy:1.0>\n"), text)
        let again = ExtraNetworkTags(String(text.prefix { $0 != "\n" }))
        XCTAssertEqual(again.hypernetworks.map(\.name), ["modern", "legacy"])
        XCTAssertEqual(again.hypernetworks.map(\.weight), [0.6, 1.0])
        XCTAssertEqual(again.text, "a fox  ")
    }

    func testCorruptFilesAreRefusedNamingTheNetwork() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hn-bad-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let legacy = try Data(contentsOf: Self.folder.appendingPathComponent("legacy.pt"))
        try legacy.prefix(legacy.count / 2).write(to: dir.appendingPathComponent("half.pt"))
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("garbage.pt"))
        // An embedding is not a hypernetwork.
        try FileManager.default.copyItem(at: EmbeddingParityTests.root.appendingPathComponent("models/embeddings/fluffstyle.pt"),
                                         to: dir.appendingPathComponent("embedding.pt"))
        try FileManager.default.copyItem(at: EmbeddingParityTests.root.appendingPathComponent("bad/evil_legacy.pt"),
                                         to: dir.appendingPathComponent("evil.pt"))
        let marker = "/tmp/diffusiond-evil-legacy-marker"
        try? FileManager.default.removeItem(atPath: marker)
        XCTAssertThrowsError(try Hypernetwork.load(path: dir.appendingPathComponent("evil.pt").path, name: "evil")) { error in
            XCTAssertTrue("\(error)".contains("system"), "names the refused global: \(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "nothing in the file ran")
        for name in ["half", "garbage", "embedding"] {
            XCTAssertThrowsError(try Hypernetwork.load(path: dir.appendingPathComponent("\(name).pt").path, name: name), name) { error in
                guard case HypernetworkError.corrupt(let n, _) = error else { return XCTFail("\(name): \(error)") }
                XCTAssertEqual(n, name)
            }
        }
    }
}
