import Engine
import Foundation
import Models
import Weights
import XCTest

/// Embeddings bundled in LoRA files (`bundle_emb.NAME.*`, scripts/fixtures/make_lora_bundle_fixtures.py): usable
/// by NAME while the LoRA is applied, equal to the same vectors read from the embeddings folder, matching the
/// diffusers references of the embedding fixtures, reported per LoRA; a folder embedding of the same name wins.
final class LoRABundledEmbeddingTests: XCTestCase {
    static let directory = LoRADirectory(path: PipelineFixtures.root.appendingPathComponent("lora/bundles").path)
    static let noEmbeddings = EmbeddingLibrary(directory: nil)

    static func embeddingCase(_ name: String) throws -> [String: Any] {
        try XCTUnwrap(try EmbeddingParityTests.cases(kind: "embedding").first { $0["name"] as? String == name })
    }

    /// The request of an embedding fixture case, its embeddings resolved from `library` and `bundled` only.
    static func request(_ c: [String: Any], model: LoadedModel, library: EmbeddingLibrary) throws -> GenerationRequest {
        var r = try EmbeddingParityTests.request(c, model: model)
        r.embeddings = try PromptEmbeddings.resolve([("prompt", r.prompt), ("negative_prompt", r.negativePrompt)],
                                                    tokenizer: model.tokenizer, library: library,
                                                    bundled: model.bundledEmbeddings)
        return r
    }

    func testBundledA1111AndKohyaSDXLLayoutsMatchDiffusersReferences() throws {
        let refs = try EmbeddingParityTests.references()
        var failures: [String] = []
        for (family, file, caseName, embedding) in [("sd1", "sd1_bundle_zero", "sd1_kohya_negative", "badhands"),
                                                    ("sdxl", "sdxl_bundle_zero", "xl_clip_l_clip_g", "xlemb")] {
            let base = try EmbeddingParityTests.model(family)
            let adapted = try base.applying([LoRARequest(name: file, field: "loras[0]")], directory: Self.directory)
            XCTAssertEqual(adapted.model.bundledEmbeddings.map(\.embedding.name), [embedding])
            XCTAssertEqual(adapted.model.bundledEmbeddings.map(\.lora), [file])
            XCTAssertEqual(adapted.reports[0].bundledEmbeddings.map(\.name), [embedding])
            XCTAssertNil(adapted.reports[0].bundledEmbeddings[0].error)
            let c = try Self.embeddingCase(caseName)
            let request = try Self.request(c, model: adapted.model, library: Self.noEmbeddings)
            XCTAssertEqual(request.embeddings.byName.keys.sorted(), [embedding], caseName)
            XCTAssertEqual(request.embeddings.bundledFrom, [embedding: file])
            let result = try StableDiffusionPipeline(model: adapted.model).run(request)
            failures += try EmbeddingParityTests.compare(result, caseName, refs: refs)
            // The base model knows no bundled embedding: the name is just words there.
            XCTAssertTrue(try Self.request(c, model: base, library: Self.noEmbeddings).embeddings.isEmpty)
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testBundledEmbeddingEqualsTheFolderEmbeddingWithTheSameLoRA() throws {
        let base = try EmbeddingParityTests.model("sd1")
        let bundled = try base.applying([LoRARequest(name: "sd1_bundle", weight: 0.8, field: "loras[0]")], directory: Self.directory)
        let plain = try base.applying([LoRARequest(name: "sd1_nobundle", weight: 0.8, field: "loras[0]")], directory: Self.directory)
        XCTAssertTrue(plain.model.bundledEmbeddings.isEmpty)
        let c = try Self.embeddingCase("sd1_kohya_negative")
        let fromBundle = try Self.request(c, model: bundled.model, library: Self.noEmbeddings)
        let fromFolder = try Self.request(c, model: plain.model, library: EmbeddingParityTests.library)
        XCTAssertEqual(fromBundle.embeddings.byName.keys.sorted(), ["badhands"])
        XCTAssertEqual(fromFolder.embeddings.bundledFrom, [:])
        let a = try StableDiffusionPipeline(model: bundled.model).run(fromBundle)
        let b = try StableDiffusionPipeline(model: plain.model).run(fromFolder)
        XCTAssertEqual(a.latents.scalars, b.latents.scalars, "bundled vectors are the folder's vectors")
        let noEmbedding = try StableDiffusionPipeline(model: plain.model).run(try Self.request(c, model: plain.model, library: Self.noEmbeddings))
        XCTAssertGreaterThan(PipelineParityTests.maxAbsDiff(a.latents.scalars, noEmbedding.latents.scalars), 1e-3)

        // A folder embedding of the same name wins over the bundled one (A1111's rule).
        let both = try Self.request(c, model: bundled.model, library: EmbeddingParityTests.library)
        XCTAssertEqual(both.embeddings.bundledFrom, [:])

        // The broken bundle is reported with why; the good one and the LoRA still apply.
        let reports = bundled.reports[0].bundledEmbeddings
        XCTAssertEqual(reports.map(\.name), ["badhands", "broken"])
        XCTAssertEqual(reports[0].vectors, 3)
        XCTAssertNil(reports[1].vectors)
        XCTAssertTrue(reports[1].error?.contains("[2, 3, 4]") ?? false, "\(reports[1])")
        XCTAssertEqual(bundled.reports[0].matched, bundled.reports[0].total)
        XCTAssertEqual(bundled.model.bundledEmbeddings.map(\.embedding.name), ["badhands"])
    }

    func testBundleKeysAreSplitAsA1111Does() {
        XCTAssertEqual(LoRABundledEmbedding.split("bundle_emb.pekora.string_to_param.*")?.name, "pekora")
        XCTAssertEqual(LoRABundledEmbedding.split("bundle_emb.pekora.string_to_param.*")?.rest, "string_to_param.*")
        XCTAssertEqual(LoRABundledEmbedding.split("bundle_emb.x.clip_g")?.rest, "clip_g")
        XCTAssertNil(LoRABundledEmbedding.split("bundle_emb.noTensor"))
        XCTAssertNil(LoRABundledEmbedding.split("bundle_emb..clip_l"))
        XCTAssertNil(LoRABundledEmbedding.split("lora_te_x.alpha"))
    }
}
