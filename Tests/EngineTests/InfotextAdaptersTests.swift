import Engine
import Foundation
import Sampling
import Weights
import XCTest

/// The adapters in the A1111 `parameters` text: LoRA tags after the prompt, `Lora hashes` (kohya's addnet hash
/// for .safetensors, the whole file otherwise) and `TI hashes` (whole file; a bundled embedding: its LoRA's name),
/// the hashes checked against Python's hashlib over the committed fixtures.
final class InfotextAdaptersTests: XCTestCase {
    func testSHA256KnownVectors() {
        func hex(_ bytes: [UInt8]) -> String { var h = SHA256(); h.update(bytes); return h.hexDigest() }
        XCTAssertEqual(hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex([UInt8](repeating: 0x61, count: 1000)), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        // Fed in uneven pieces: the same digest.
        var h = SHA256()
        let data = [UInt8](repeating: 0x61, count: 1000)
        var i = 0
        for size in [1, 63, 64, 65, 7, 300, 500] { h.update(Array(data[i..<min(i + size, 1000)])); i = min(i + size, 1000) }
        XCTAssertEqual(h.hexDigest(), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    func testFileHashesAreA1111s() {
        let loras = LoRAParityTests.root.appendingPathComponent("loras")
        XCTAssertEqual(ModelFileHashes.lora(path: loras.appendingPathComponent("sd1_full.safetensors").path), "502672e505bc")
        XCTAssertEqual(ModelFileHashes.lora(path: loras.appendingPathComponent("sub/sd1_kohya.safetensors").path), "f25f7740efa0")
        XCTAssertEqual(ModelFileHashes.lora(path: loras.appendingPathComponent("sd1_kohya_pickle.pt").path), "5f12ecdb4cc9")
        let embeddings = EmbeddingParityTests.root.appendingPathComponent("models/embeddings")
        XCTAssertEqual(ModelFileHashes.short(path: embeddings.appendingPathComponent("badhands.safetensors").path, addnet: false), "29bace574484")
        XCTAssertNil(ModelFileHashes.lora(path: "/nonexistent/x.safetensors"))
    }

    func testLoRATagsAndHashFields() throws {
        var r = GenerationRequest(prompt: "a fox")
        r.negativePrompt = "blurry"
        r.sampler = try SamplerChoice.parse(sampler: "euler")
        r.steps = 4
        r.cfgScale = 7
        r.width = 32
        r.height = 32
        let adapters = InfotextAdapters(
            loras: [AppliedLoRA(name: "styles/ink", textEncoderWeight: 0.8, unetWeight: 0.8, path: "/x"),
                    AppliedLoRA(name: "b:c,d", textEncoderWeight: 1, unetWeight: 0.5, path: "/y")],
            loraHashes: ["styles/ink: 0123456789ab", "bcd: ba9876543210"], embeddingHashes: ["badhands: 29bace574484"])
        XCTAssertEqual(GenerationInfo.parameters(r, seed: 3, modelName: "tiny", adapters: adapters),
                       "a fox <lora:styles/ink:0.8> <lora:b:c,d:1:0.5>\nNegative prompt: blurry\nSteps: 4, Sampler: Euler, "
                       + "CFG scale: 7, Seed: 3, Size: 32x32, Model: tiny, RNG: CPU, "
                       + "Lora hashes: \"styles/ink: 0123456789ab, bcd: ba9876543210\", TI hashes: \"badhands: 29bace574484\"")
    }

    /// A LoRA applied with a DyLoRA rank limit writes it back as A1111's `dyn=` so the text repeats the run.
    func testDynIsWrittenInTheTag() {
        let adapters = InfotextAdapters(loras: [AppliedLoRA(name: "d", textEncoderWeight: 0.8, unetWeight: 0.8, dyn: 4, path: "/x"),
                                                AppliedLoRA(name: "e", textEncoderWeight: 1, unetWeight: 0.5, dyn: 2, path: "/y")])
        XCTAssertEqual(adapters.tags, " <lora:d:0.8:dyn=4> <lora:e:1:0.5:dyn=2>")
    }

    func testBuiltFromAPatchedModelAndTheEmbeddingsItsPromptsUse() throws {
        let base = try EmbeddingParityTests.model("sd1")
        let directory = LoRADirectory(path: PipelineFixtures.root.appendingPathComponent("lora/bundles").path)
        let adapted = try base.applying([LoRARequest(name: "sd1_bundle", weight: 0.5, unetWeight: 0.25, field: "loras[0]")],
                                        directory: directory)
        var r = GenerationRequest(prompt: "fluffstyle fox")
        r.negativePrompt = "badhands"
        r.embeddings = try PromptEmbeddings.resolve([("prompt", r.prompt), ("negative_prompt", r.negativePrompt)],
                                                    tokenizer: base.tokenizer, library: EmbeddingParityTests.library,
                                                    bundled: adapted.model.bundledEmbeddings)
        let info = InfotextAdapters(model: adapted.model, request: r, library: EmbeddingParityTests.library)
        XCTAssertEqual(info.tags, " <lora:sd1_bundle:0.5:0.25>")
        let expected = try ModelFileHash.sha256(path: directory.path + "/sd1_bundle.safetensors", skippingSafeTensorsHeader: true)
        XCTAssertEqual(info.loraHashes, ["sd1_bundle: \(expected.prefix(12))"])
        XCTAssertEqual(info.embeddingHashes, ["badhands: 29bace574484", "fluffstyle: 90bc3cea0c53"], "the folder's badhands wins")
        // Without the folder, badhands is the LoRA's bundled one: A1111 records the LoRA's name as its hash.
        let bundledOnly = EmbeddingLibrary(directory: nil)
        r.embeddings = try PromptEmbeddings.resolve([("negative_prompt", r.negativePrompt)], tokenizer: base.tokenizer,
                                                    library: bundledOnly, bundled: adapted.model.bundledEmbeddings)
        XCTAssertEqual(InfotextAdapters(model: adapted.model, request: r, library: bundledOnly).embeddingHashes,
                       ["badhands: sd1_bundle"])
        XCTAssertEqual(InfotextAdapters(model: base, request: GenerationRequest(prompt: "x"), library: bundledOnly), InfotextAdapters())
    }
}
