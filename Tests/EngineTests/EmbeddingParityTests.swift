import Engine
import Foundation
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// Textual-inversion embeddings against Tests/Fixtures/embeddings (scripts/fixtures/make_embedding_fixtures.py):
/// whole runs against diffusers' `load_textual_inversion` (SD1 and SDXL), A1111 emphasis and chunk placement
/// against a direct torch computation, every file format, the report and the refusals.
final class EmbeddingParityTests: XCTestCase {
    static let root = PipelineFixtures.root.appendingPathComponent("embeddings")
    static let library = EmbeddingLibrary(directory: root.appendingPathComponent("models/embeddings").path)
    nonisolated(unsafe) static var models: [String: LoadedModel] = [:]

    static func model(_ family: String) throws -> LoadedModel {
        if let m = models[family] { return m }
        let path = family == "sdxl" ? PipelineFixtures.root.appendingPathComponent("sdxl/base/diffusers").path
                                    : PipelineFixtures.modelFolder(family)
        let m = try LoadedModel.load(name: family, path: path)
        models[family] = m
        return m
    }

    static func cases(kind: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("cases.json"))
        let all = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        return all.filter { $0["kind"] as? String == kind }
    }

    static func references() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: root.appendingPathComponent("references.safetensors").path)
    }

    static func resolve(_ prompt: String, _ negative: String, model: LoadedModel) throws -> PromptEmbeddings {
        try PromptEmbeddings.resolve([("prompt", prompt), ("negative_prompt", negative)], tokenizer: model.tokenizer,
                                     library: library)
    }

    static func request(_ c: [String: Any], model: LoadedModel) throws -> GenerationRequest {
        let prompt = c["prompt"] as? String ?? ""
        let negative = c["negative_prompt"] as? String ?? ""
        var r = GenerationRequest(prompt: prompt)
        r.negativePrompt = negative
        r.sampler = try SamplerChoice.parse(sampler: c["sampler"] as? String ?? "euler")
        r.steps = c["steps"] as? Int ?? 6
        r.cfgScale = (c["cfg_scale"] as? NSNumber)?.doubleValue ?? 7
        r.seed = UInt64(c["seed"] as? Int ?? 0)
        r.width = c["width"] as? Int ?? 32
        r.height = c["height"] as? Int ?? 32
        r.embeddings = try resolve(prompt, negative, model: model)
        return r
    }

    /// Latents within 1e-4 of the largest reference value, 8-bit pixels within 1.
    static func compare(_ result: GenerationResult, _ name: String, refs: SafeTensorsFile) throws -> [String] {
        var failures: [String] = []
        let latents = try refs.tensor("\(name).latents")
        XCTAssertEqual(result.latents.shape, latents.shape, name)
        let error = PipelineParityTests.maxAbsDiff(result.latents.scalars, latents.scalars)
        let scale = latents.scalars.map { abs($0) }.max() ?? 1
        if error > 1e-4 * scale { failures.append("\(name): latent max diff \(error) (scale \(scale))") }
        let pixels = PipelineParityTests.maxAbsDiff(PipelineParityTests.eightBitHWC(result.images),
                                                    try refs.tensor("\(name).image8").scalars)
        if pixels > 1 { failures.append("\(name): 8-bit max diff \(pixels)") }
        return failures
    }

    func testRunsMatchDiffusersLoadTextualInversion() throws {
        let cases = try Self.cases(kind: "embedding")
        XCTAssertEqual(cases.count, 5, "fixture cases missing")
        let refs = try Self.references()
        var failures: [String] = []
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let model = try Self.model(c["family"] as? String ?? "sd1")
            let request = try Self.request(c, model: model)
            XCTAssertEqual(request.embeddings.byName.keys.sorted(), (c["embeddings"] as? [String] ?? []).sorted(), name)
            // Without the embeddings the run differs: the vectors really are what makes it match.
            var plain = request
            plain.embeddings = .none
            let result = try StableDiffusionPipeline(model: model).run(request)
            let without = try StableDiffusionPipeline(model: model).run(plain)
            XCTAssertGreaterThan(PipelineParityTests.maxAbsDiff(result.latents.scalars, without.latents.scalars), 1e-2, name)
            failures += try Self.compare(result, name, refs: refs)
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    /// `(name:1.3)` weights the embedding's vectors like words; an embedding that does not fit in what is left of
    /// a chunk starts the next one.
    func testEmphasisAndChunkPlacementMatchDirectComputation() throws {
        let model = try Self.model("sd1")
        let refs = try Self.references()
        for c in try Self.cases(kind: "conditioning") {
            let name = c["name"] as? String ?? "?"
            let prompt = c["prompt"] as? String ?? ""
            var request = ConditioningRequest(prompt: prompt, negativePrompt: "", clipSkip: 1, batch: 1, withUnconditional: false)
            request.embeddings = try Self.resolve(prompt, "", model: model)
            let ours = try model.conditioner.conditioning(for: request).context
            let expected = try refs.tensor("cond.\(name)")
            XCTAssertEqual(ours.shape, expected.shape, name)
            let error = PipelineParityTests.maxAbsDiff(ours.scalars, expected.scalars)
            let scale = expected.scalars.map { abs($0) }.max() ?? 1
            XCTAssertLessThanOrEqual(error, 1e-4 * scale, name)
        }
        let chunker = PromptChunker(tokenizer: model.tokenizer)
        let embeddings = try Self.resolve("longemb", "", model: model)
        let chunks = chunker.chunks(String(repeating: "a ", count: 74) + "longemb dog",
                                    embeddings: embeddings.vocabulary(model.tokenizer))
        XCTAssertEqual(chunks.count, 2)
        XCTAssertEqual(chunks[0].embeddings, [])
        XCTAssertEqual(chunks[1].embeddings, [EmbeddingPlacement(name: "longemb", offset: 1, count: 3)])
    }

    /// A comma back-track moves an embedding's placement with its tokens (A1111 would leave it behind).
    func testCommaBacktrackMovesPlacements() throws {
        let model = try Self.model("sd1")
        let chunker = PromptChunker(tokenizer: model.tokenizer)
        let embeddings = try Self.resolve("ditto", "", model: model)
        let prompt = String(repeating: "a ", count: 70) + ", ditto a a a a a"
        let chunks = chunker.chunks(prompt, embeddings: embeddings.vocabulary(model.tokenizer))
        XCTAssertEqual(chunks.count, 2)
        XCTAssertEqual(chunks[0].embeddings, [])
        XCTAssertEqual(chunks[1].embeddings, [EmbeddingPlacement(name: "ditto", offset: 1, count: 1)])
        XCTAssertEqual(chunks[1].ids[1], 0, "placeholder id")
    }

    func testReportCountsTokensPerPrompt() throws {
        let model = try Self.model("sd1")
        let prompt = "fluffstyle cat, styles/onevec dog, fluffstyle, ditto"
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = "ditto"
        request.embeddings = try Self.resolve(prompt, "ditto", model: model)
        let uses = try GenerationCore(model: model).embeddingUses(for: request)
        XCTAssertEqual(uses, [
            EmbeddingUse(name: "fluffstyle", field: "prompt", vectors: 2, occurrences: 2, tokens: 4),
            EmbeddingUse(name: "styles/onevec", field: "prompt", vectors: 1, occurrences: 1, tokens: 1),
            EmbeddingUse(name: "ditto", field: "prompt", vectors: 1, occurrences: 1, tokens: 1),
            EmbeddingUse(name: "ditto", field: "negative_prompt", vectors: 1, occurrences: 1, tokens: 1),
        ])
        // SDXL: both encoders read `prompt`, reported once.
        let xl = try Self.model("sdxl")
        var xlRequest = GenerationRequest(prompt: "xlemb and xlemb")
        xlRequest.embeddings = try Self.resolve(xlRequest.prompt, "", model: xl)
        XCTAssertEqual(try GenerationCore(model: xl).embeddingUses(for: xlRequest),
                       [EmbeddingUse(name: "xlemb", field: "prompt", vectors: 2, occurrences: 2, tokens: 4)])
    }

    func testWrongWidthIsRefusedNamingEmbeddingAndWidth() throws {
        let sd1 = try Self.model("sd1")
        let xl = try Self.model("sdxl")
        func refusal(_ model: LoadedModel, prompt: String = "a cat", negative: String = "") throws -> String? {
            var request = GenerationRequest(prompt: prompt)
            request.negativePrompt = negative
            request.embeddings = try Self.resolve(prompt, negative, model: model)
            do {
                _ = try GenerationCore(model: model).embeddingUses(for: request)
                return nil
            } catch EngineError.invalidParameter(let field, let reason) {
                return "\(field): \(reason)"
            }
        }
        let wide = try refusal(sd1, prompt: "a widevec cat")
        XCTAssertEqual(wide, "prompt: embedding 'widevec' has vectors of width 48; this model expects vectors of width 32")
        let xlOnSD1 = try refusal(sd1, negative: "xlemb")
        XCTAssertEqual(xlOnSD1?.hasPrefix("negative_prompt: embedding 'xlemb' has SDXL vectors (clip_g width 48, clip_l width 32)"), true, xlOnSD1 ?? "nil")
        let sd1OnXL = try refusal(xl, prompt: "fluffstyle")
        XCTAssertEqual(sd1OnXL, "prompt: embedding 'fluffstyle' has vectors of width 32; this model expects an SDXL embedding (clip_l + clip_g) with clip_l of width 32")
        XCTAssertNil(try refusal(xl, prompt: "xlemb"))
        // The run itself refuses too (a caller that skipped the check).
        var request = GenerationRequest(prompt: "widevec")
        request.width = 32
        request.height = 32
        request.steps = 1
        request.embeddings = try Self.resolve("widevec", "", model: sd1)
        XCTAssertThrowsError(try StableDiffusionPipeline(model: sd1).run(request)) { error in
            guard case EngineError.invalidParameter(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("widevec"), reason)
        }
    }

    func testEveryFormatLoadsWithItsShape() throws {
        let expected: [String: [TextualInversionSlot: [Int]]] = [
            "fluffstyle": [.single: [2, 32]], "badhands": [.single: [3, 32]], "styles/onevec": [.single: [1, 32]],
            "ditto": [.single: [1, 32]], "widevec": [.single: [1, 48]], "longemb": [.single: [3, 32]],
            "xlemb": [.clipL: [2, 32], .clipG: [2, 48]],
        ]
        XCTAssertEqual(Self.library.names(), expected.keys.sorted())
        for entry in Self.library.entries() {
            let shapes = try TextualInversionFile.describe(path: entry.path, name: entry.name)
            XCTAssertEqual(shapes, expected[entry.name], entry.name)
            let loaded = try Self.library.embedding(named: entry.name)
            XCTAssertEqual(loaded.vectors.mapValues(\.shape), expected[entry.name], entry.name)
        }
        XCTAssertEqual(try Self.library.embedding(named: "xlemb").family, "sdxl")
        XCTAssertNil(try Self.library.embedding(named: "fluffstyle").family, "width 32 is no real family")
    }

    func testBadFilesAndPathsAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emb-bad-\(getpid())")
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("emb-outside-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.removeItem(at: outside)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir); try? FileManager.default.removeItem(at: outside) }
        let good = Self.root.appendingPathComponent("models/embeddings/ditto.safetensors")
        try Data("not a checkpoint at all".utf8).write(to: dir.appendingPathComponent("garbage.pt"))
        try Data([0x80, 0x02, 0x7d]).write(to: dir.appendingPathComponent("truncated.bin"))
        try Data(contentsOf: good).prefix(40).write(to: dir.appendingPathComponent("cut.safetensors"))
        func write(_ tensors: [(String, Tensor)], _ file: String) throws {
            var writer = SafeTensorsWriter()
            for (name, t) in tensors { try writer.add(name, t) }
            try writer.write(to: dir.appendingPathComponent(file).path)
        }
        try write([("a", Tensor(shape: [1, 4], repeating: 1)), ("b", Tensor(shape: [1, 4], repeating: 1))], "twokeys.safetensors")
        try write([("emb_params", Tensor(shape: [2, 2, 4], repeating: 1))], "sub/cube.safetensors")
        try write([("emb_params", Tensor(shape: [1, 4], values: [1, .nan, 0, 0]))], "nan.safetensors")
        try write([("emb_params", Tensor(shape: [76, 4], repeating: 1))], "toolong.safetensors")
        try write([("emb_params", Tensor(shape: [1, 8193], repeating: 1))], "toowide.safetensors")
        try write([("emb_params", Tensor(shape: [0, 4], repeating: 1))], "empty.safetensors")
        try FileManager.default.copyItem(at: good, to: outside.appendingPathComponent("secret.safetensors"))
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("escape.safetensors"),
                                                   withDestinationURL: outside.appendingPathComponent("secret.safetensors"))
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("escapedir"), withDestinationURL: outside)
        let library = EmbeddingLibrary(directory: dir.path)
        XCTAssertEqual(library.names(), ["cut", "empty", "garbage", "nan", "sub/cube", "toolong", "toowide", "truncated", "twokeys"],
                       "links leaving the folder are not listed")
        for name in library.names() {
            XCTAssertThrowsError(try library.embedding(named: name), name) { error in
                XCTAssertTrue("\(error)".contains("'\(name)'"), "\(error)")
            }
        }
        for name in ["escape", "../emb-outside-\(getpid())/secret", "/etc/passwd", "escapedir/secret"] {
            XCTAssertThrowsError(try library.embedding(named: name), name)
        }
        // A corrupt file nobody's prompt uses does not fail a request.
        let sd1 = try Self.model("sd1")
        XCTAssertTrue(try PromptEmbeddings.resolve([("prompt", "a cat")], tokenizer: sd1.tokenizer, library: library).isEmpty)
        XCTAssertThrowsError(try PromptEmbeddings.resolve([("negative_prompt", "garbage")], tokenizer: sd1.tokenizer,
                                                          library: library)) { error in
            guard case EngineError.invalidParameter(let field, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "negative_prompt")
            XCTAssertTrue(reason.contains("'garbage'"), reason)
        }
    }
}

extension EmbeddingParityTests {
    /// The SDXL refiner has only the second encoder: it takes an SDXL embedding's clip_g, and reports `prompt_2`
    /// uses where the base reads `prompt_2` with its second encoder.
    func testRefinerTakesClipGAndPrompt2IsReported() throws {
        let refiner = try LoadedModel.load(name: "refiner", path: PipelineFixtures.root.appendingPathComponent("sdxl/refiner/diffusers").path)
        var request = GenerationRequest(prompt: "xlemb cat")
        request.embeddings = try Self.resolve(request.prompt, "", model: refiner)
        XCTAssertEqual(try GenerationCore(model: refiner).embeddingUses(for: request),
                       [EmbeddingUse(name: "xlemb", field: "prompt", vectors: 2, occurrences: 1, tokens: 2)])
        let refined = try refiner.conditioner.conditioning(for: ConditioningRequest(
            prompt: "xlemb cat", negativePrompt: "", clipSkip: 1, batch: 1, withUnconditional: false)).context
        var withEmbedding = ConditioningRequest(prompt: "xlemb cat", negativePrompt: "", clipSkip: 1, batch: 1, withUnconditional: false)
        withEmbedding.embeddings = request.embeddings
        XCTAssertNotEqual(try refiner.conditioner.conditioning(for: withEmbedding).context.scalars, refined.scalars)

        let xl = try Self.model("sdxl")
        var two = GenerationRequest(prompt: "a cat")
        two.prompt2 = "xlemb"
        two.negativePrompt = "xlemb"
        two.negativePrompt2 = "plain"
        two.embeddings = try PromptEmbeddings.resolve([("prompt", "a cat"), ("prompt_2", "xlemb"), ("negative_prompt", "xlemb")],
                                                      tokenizer: xl.tokenizer, library: Self.library)
        XCTAssertEqual(try GenerationCore(model: xl).embeddingUses(for: two), [
            EmbeddingUse(name: "xlemb", field: "negative_prompt", vectors: 2, occurrences: 1, tokens: 2),
            EmbeddingUse(name: "xlemb", field: "prompt_2", vectors: 2, occurrences: 1, tokens: 2),
        ])
    }

    /// `models.list` describes embeddings and hypernetworks from headers; a corrupt file is listed with its problem.
    func testCatalogListsAdaptersWithTheirProblems() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("embeddings"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("hypernetworks"),
                                                   withDestinationURL: Self.root.appendingPathComponent("models/hypernetworks"))
        try FileManager.default.copyItem(at: Self.root.appendingPathComponent("models/embeddings/xlemb.safetensors"),
                                         to: dir.appendingPathComponent("embeddings/xlemb.safetensors"))
        try Data("junk".utf8).write(to: dir.appendingPathComponent("embeddings/junk.pt"))
        let listings = ModelHost(directory: dir.path).catalog()
        XCTAssertEqual(listings.map { "\($0.kind.rawValue):\($0.name)" },
                       ["hypernetwork:legacy", "hypernetwork:modern", "hypernetwork:nomatch", "embedding:junk", "embedding:xlemb"])
        let xl = try XCTUnwrap(listings.first { $0.name == "xlemb" })
        XCTAssertEqual(xl.details["family"], "sdxl")
        XCTAssertEqual(xl.details["vectors"], "2")
        XCTAssertEqual(xl.details["clip_g_width"], "48")
        XCTAssertNil(xl.problem)
        XCTAssertNotNil(listings.first { $0.name == "junk" }?.problem)
        let legacy = try XCTUnwrap(listings.first { $0.name == "legacy" })
        XCTAssertEqual(legacy.details["widths"], "16,32")
        XCTAssertNil(legacy.details["layer_structure"], "2022 files carry none")
        XCTAssertEqual(listings.first { $0.name == "modern" }?.details["layer_structure"], "1,1.5,2,1")
    }
}
