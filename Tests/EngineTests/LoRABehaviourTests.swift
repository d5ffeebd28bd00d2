import Engine
import Foundation
@testable import Models
import Sampling
import Tensor
import Weights
import XCTest

/// Switching adapters without drift, the patched-set cache, partial matches and every refusal, on the tiny SD1
/// model and the files of Tests/Fixtures/lora/loras.
final class LoRABehaviourTests: XCTestCase {
    static func request() throws -> GenerationRequest {
        var r = GenerationRequest(prompt: "a red fox sitting in the snow")
        r.negativePrompt = "blurry"
        r.sampler = try SamplerChoice.parse(sampler: "euler", scheduler: "normal")
        r.steps = 3
        r.width = 32
        r.height = 32
        r.seed = 11
        return r
    }

    func run(_ model: LoadedModel) throws -> [Float] {
        try StableDiffusionPipeline(model: model).run(Self.request()).latents.scalars
    }

    /// A request without adapters after requests with them gives, bit for bit, what a freshly loaded model gives.
    func testNoAdaptersAfterAdaptersIsBitIdenticalToAFreshModel() throws {
        let path = PipelineFixtures.modelFolder("sd1")
        let fresh = try run(try LoadedModel.load(name: "sd1", path: path))
        let model = try LoadedModel.load(name: "sd1", path: path)
        let directory = LoRAParityTests.directory
        let sets: [[LoRARequest]] = [
            [LoRARequest(name: "sd1_peft", weight: 0.8, field: "loras[0]")],
            [LoRARequest(name: "sd1_dora", weight: -0.6, field: "loras[0]"), LoRARequest(name: "sd1_full", field: "loras[1]")],
            [LoRARequest(name: "sub/sd1_kohya", textEncoderWeight: 1, unetWeight: 0.5, field: "loras[0]")],
        ]
        for set in sets {
            let adapted = try model.applying(set, directory: directory)
            XCTAssertNotEqual(try run(adapted.model), fresh, "the adapters changed nothing: \(set.map(\.name))")
            let plain = try model.applying([], directory: directory)
            XCTAssertTrue(plain.model === model, "no adapters: the base model itself")
            XCTAssertEqual(try run(plain.model), fresh, "drift after \(set.map(\.name))")
        }
        XCTAssertEqual(try run(model), fresh)
    }

    /// First touches copy the base and accumulate ΔW block by block while the block is in cache; the blocks'
    /// size does not change a bit of the merged weights (one row per block against one block for all).
    func testBlockedFirstTouchMergesTheSameBits() throws {
        let model = try LoadedModel.load(name: "sd1", path: PipelineFixtures.modelFolder("sd1"))
        let set = [LoRARequest(name: "sub/sd1_kohya", weight: 0.7, field: "loras[0]"),
                   LoRARequest(name: "sd1_locon_cp", weight: 0.9, field: "loras[1]"),
                   LoRARequest(name: "sd1_peft", weight: -0.4, field: "loras[2]")]
        defer { LoRAPatcher.WorkingWeights.blockFloats = 2 << 20 }
        func merged(blockFloats: Int) throws -> [String: [UInt32]] {
            LoRAPatcher.WorkingWeights.blockFloats = blockFloats
            model.loraCache.clear()
            let weights = try XCTUnwrap(try model.applying(set, directory: LoRAParityTests.directory).model.networks.weights)
            var bits: [String: [UInt32]] = [:]
            for (name, tensor) in weights.unet.tensors { bits["unet." + name] = tensor.scalars.map(\.bitPattern) }
            for (slot, component) in weights.textEncoders {
                for (name, tensor) in component.tensors { bits["\(slot)." + name] = tensor.scalars.map(\.bitPattern) }
            }
            return bits
        }
        let whole = try merged(blockFloats: Int.max / 4)
        let rows = try merged(blockFloats: 1)
        XCTAssertEqual(whole.count, rows.count)
        for (name, values) in whole where rows[name] != values { XCTFail("\(name) differs") }
        model.loraCache.clear()
    }

    /// The same set again reuses the patched networks (no merge); a new strength or set merges afresh; only the
    /// touched tensors are new, the rest are the base's own storage.
    func testSameSetIsReusedAndOnlyTouchedTensorsAreCopied() throws {
        let model = try LoadedModel.load(name: "sd1", path: PipelineFixtures.modelFolder("sd1"))
        let set = [LoRARequest(name: "sd1_locon_cp", weight: 0.9, field: "loras[0]")]
        let first = try model.applying(set, directory: LoRAParityTests.directory)
        XCTAssertFalse(first.reused)
        let second = try model.applying(set, directory: LoRAParityTests.directory)
        XCTAssertTrue(second.reused)
        XCTAssertTrue(first.model === second.model)
        let other = try model.applying([LoRARequest(name: "sd1_locon_cp", weight: 0.5, field: "loras[0]")],
                                       directory: LoRAParityTests.directory)
        XCTAssertFalse(other.reused)

        let base = try XCTUnwrap(model.networks.weights), patched = try XCTUnwrap(first.model.networks.weights)
        let touched = Set(patched.unet.tensors.filter { name, tensor in
            base.unet.tensors[name].map { $0.storage !== tensor.storage } ?? true
        }.keys)
        XCTAssertFalse(touched.isEmpty)
        XCTAssertTrue(touched.allSatisfy { $0.hasSuffix("conv1.weight") || $0.hasSuffix("conv2.weight") || $0 == "conv_in.weight" },
                      "\(touched.sorted())")
        XCTAssertEqual(touched.count, first.reports[0].matched)
        // Text encoders the adapter does not touch are shared as they are.
        XCTAssertTrue(patched.textEncoders[.textEncoder]?.tensors.allSatisfy { name, tensor in
            base.textEncoders[.textEncoder]?.tensors[name]?.storage === tensor.storage
        } ?? false)
    }

    func testReportsFamilyTypeAndCounts() throws {
        let model = try LoRAParityTests.model("sd1")
        let expected: [(String, String)] = [("sd1_peft", "locon"), ("sd1_locon_cp", "locon"), ("sd1_loha", "loha"),
                                            ("sd1_lokr", "lokr"), ("sd1_dora", "dora"), ("sd1_full", "full"),
                                            ("sd1_spelling_old_processor", "lora")]
        for (name, type) in expected {
            let report = try XCTUnwrap(try model.applying([LoRARequest(name: name, field: "loras[0]")],
                                                          directory: LoRAParityTests.directory).reports.first)
            XCTAssertEqual(report.type, type, name)
            XCTAssertEqual(report.matched, report.total, name)
            XCTAssertGreaterThan(report.total, 0, name)
            XCTAssertNil(report.family, "\(name): the tiny models' widths name no family")
        }
    }

    /// A file with one module that fits and one that does not is applied, with a warning naming the count.
    func testPartlyMatchedIsAppliedWithAWarning() throws {
        let folder = try temporaryLoRAFolder()
        var writer = SafeTensorsWriter()
        let key = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q"
        try writer.add("\(key).lora_down.weight", Tensor(shape: [2, 16], repeating: 0.1))
        try writer.add("\(key).lora_up.weight", Tensor(shape: [16, 2], repeating: 0.1))
        try writer.add("lora_unet_down_blocks_7_nothing.lora_down.weight", Tensor(shape: [2, 16], repeating: 0.1))
        try writer.add("lora_unet_down_blocks_7_nothing.lora_up.weight", Tensor(shape: [16, 2], repeating: 0.1))
        try writer.add("\(key)_wrong.lora_down.weight", Tensor(shape: [2, 16], repeating: 0.1))
        try writer.add("not_a_lora_tensor", Tensor(shape: [1], repeating: 0))
        try writer.write(to: folder.appendingPathComponent("partial.safetensors").path)
        let model = try LoRAParityTests.model("sd1")
        let report = try XCTUnwrap(try model.applying([LoRARequest(name: "partial", field: "loras[0]")],
                                                      directory: LoRADirectory(path: folder.path)).reports.first)
        XCTAssertEqual(report.matched, 1)
        XCTAssertEqual(report.total, 2)
        XCTAssertEqual(report.unmatched, ["lora_unet_down_blocks_7_nothing", "\(key)_wrong.lora_down.weight", "not_a_lora_tensor"])
        XCTAssertNotNil(report.warning)
    }

    /// Hostile or broken modules never crash or allocate beyond the target: each is reported as unmatched with
    /// why, and the modules that fit still apply.
    func testMalformedModulesAreReportedNotFatal() throws {
        let folder = try temporaryLoRAFolder()
        var writer = SafeTensorsWriter()
        let attn = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_"
        func add(_ name: String, _ shape: [Int], _ value: Float = 0.01) throws { try writer.add(name, Tensor(shape: shape, repeating: value)) }
        try add(attn + "to_q.lora_down.weight", [2, 16])                     // fits
        try add(attn + "to_q.lora_up.weight", [16, 2])
        try add(attn + "to_k.lora_down.weight", [2, 100_000])                // ΔW far larger than the weight
        try add(attn + "to_k.lora_up.weight", [16, 2])
        try add(attn + "to_v.lora_down.weight", [3, 16])                     // rank of up and down differ
        try add(attn + "to_v.lora_up.weight", [16, 3, 1, 1])
        try add(attn + "to_v.lora_mid.weight", [2, 3, 1, 1])
        try add(attn + "to_out_0.hada_w1_a", [40_000, 1])                    // LoHa product would be 40000²
        try add(attn + "to_out_0.hada_w1_b", [1, 40_000])
        try add(attn + "to_out_0.hada_w2_a", [16, 1])
        try add(attn + "to_out_0.hada_w2_b", [1, 16])
        try add("lora_unet_conv_in.lokr_w1_a", [50_000, 1])                 // LoKr factor larger than the weight
        try add("lora_unet_conv_in.lokr_w1_b", [1, 50_000])
        try add("lora_unet_conv_in.lokr_w2", [1, 1])
        try add("lora_unet_time_embedding_linear_1.diff", [7])               // rank-1 diff
        let ff = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_ff_net_2"
        try add(ff + ".lora_down.weight", [2, 64])                             // fits, but its dora_scale is on neither axis
        try add(ff + ".lora_up.weight", [16, 2])
        try add(ff + ".dora_scale", [5, 1])
        try writer.write(to: folder.appendingPathComponent("hostile.safetensors").path)
        let model = try LoRAParityTests.model("sd1")
        let report = try XCTUnwrap(try model.applying([LoRARequest(name: "hostile", field: "loras[0]")],
                                                      directory: LoRADirectory(path: folder.path)).reports.first)
        XCTAssertEqual(report.total, 7)
        XCTAssertEqual(report.matched, 1, "\(report.unmatched)")
        XCTAssertEqual(Set(report.unmatched.map { String($0.prefix { $0 != ":" }) }),
                       Set([attn + "to_k", attn + "to_v", attn + "to_out_0", "lora_unet_conv_in",
                            "lora_unet_time_embedding_linear_1", ff]))
        XCTAssertTrue(report.unmatched.allSatisfy { $0.contains(": ") }, "each says why: \(report.unmatched)")
        XCTAssertNotNil(report.warning)

        // A scalar where a matrix belongs, a non-scalar alpha and a NaN alpha make the file unreadable, by name.
        for (file, tensors) in [("scalar_up", [("x.lora_up.weight", [Int]()), ("x.lora_down.weight", [1, 4])]),
                                ("matrix_alpha", [("x.lora_up.weight", [4, 1]), ("x.lora_down.weight", [1, 4]), ("x.alpha", [2])])] {
            var w = SafeTensorsWriter()
            for (name, shape) in tensors { try w.add(name, Tensor(shape: shape, repeating: 1)) }
            try w.write(to: folder.appendingPathComponent("\(file).safetensors").path)
            XCTAssertThrowsError(try model.applying([LoRARequest(name: file, field: "loras[0]")],
                                                    directory: LoRADirectory(path: folder.path)), file) { error in
                guard case .unreadable(let name, _)? = (error as? LoRARequestError)?.error else { return XCTFail("\(error)") }
                XCTAssertEqual(name, file)
            }
        }
        var nan = SafeTensorsWriter()
        try nan.add(attn + "to_q.lora_down.weight", Tensor(shape: [2, 16], repeating: 0.01))
        try nan.add(attn + "to_q.lora_up.weight", Tensor(shape: [16, 2], repeating: 0.01))
        try nan.add(attn + "to_q.alpha", Tensor(shape: [], values: [.nan]))
        try nan.write(to: folder.appendingPathComponent("nan_alpha.safetensors").path)
        XCTAssertThrowsError(try model.applying([LoRARequest(name: "nan_alpha", field: "loras[0]")],
                                                directory: LoRADirectory(path: folder.path)))
    }

    func testRefusalsNameTheEntry() throws {
        let model = try LoRAParityTests.model("sd1")
        let directory = LoRAParityTests.directory
        func refusal(_ name: String, weight: Double = 1, on m: LoadedModel? = nil, in dir: LoRADirectory? = nil,
                     file: StaticString = #filePath, line: UInt = #line) -> LoRARequestError? {
            let requests = [LoRARequest(name: "sd1_full", field: "loras[0]"),
                            LoRARequest(name: name, weight: weight, field: "loras[1]")]
            do {
                _ = try (m ?? model).applying(requests, directory: dir ?? directory)
                XCTFail("\(name) was accepted", file: file, line: line)
                return nil
            } catch let e as LoRARequestError {
                XCTAssertEqual(e.field, "loras[1]", file: file, line: line)
                return e
            } catch {
                XCTFail("\(error)", file: file, line: line)
                return nil
            }
        }
        if case .notFound(let name, let available)? = refusal("no_such_lora")?.error {
            XCTAssertEqual(name, "no_such_lora")
            XCTAssertTrue(available.contains("sub/sd1_kohya"))
        } else { XCTFail("not found") }
        for bad in ["../sd/sd1/single", "/etc/passwd", "sub/../sd1_full", "./sd1_full", ""] {
            XCTAssertEqual(refusal(bad)?.error, .invalidName(bad), bad)
        }
        // Right family, wrong widths (768 against the tiny model's 32): every module misfits, so nothing matches.
        if case .matchesNothing(_, _, let keys)? = refusal("wrong_family_sd15")?.error {
            XCTAssertEqual(keys.count, 2)
            XCTAssertTrue(keys.allSatisfy { $0.contains("do not make") }, "\(keys)")
        } else { XCTFail("misfit shapes") }
        if case .matchesNothing(let name, _, let keys)? = refusal("matches_nothing")?.error {
            XCTAssertEqual(name, "matches_nothing")
            XCTAssertEqual(keys, ["lora_unet_nowhere_block_proj"])
        } else { XCTFail("matches nothing") }
        // An SDXL LoRA (second text encoder) on an SD 1.x model.
        XCTAssertEqual(refusal("sub/sdxl_kohya")?.error,
                       .wrongFamily(name: "sub/sdxl_kohya", adapterFamily: "sdxl", model: "sd1", modelFamily: "sd1"))
        if case .unreadable(let name, _)? = refusal("corrupt")?.error { XCTAssertEqual(name, "corrupt") } else { XCTFail("corrupt") }
        if case .invalidWeight? = refusal("sd1_full", weight: .nan)?.error {} else { XCTFail("nan weight") }
        if case .invalidWeight? = refusal("sd1_full", weight: .infinity)?.error {} else { XCTFail("infinite weight") }
    }

    func testSDXLLoRAOnSD1AndSD1LoRAOnSDXLAreWrongFamily() throws {
        let xl = try LoRAParityTests.model("sdxl")
        do {
            _ = try xl.applying([LoRARequest(name: "wrong_family_sd15", field: "prompt", tag: "<lora:wrong_family_sd15:1>")],
                                directory: LoRAParityTests.directory)
            XCTFail("accepted")
        } catch let e as LoRARequestError {
            XCTAssertEqual(e.error, .wrongFamily(name: "wrong_family_sd15", adapterFamily: "sd1", model: "sdxl", modelFamily: "sdxl"))
            XCTAssertEqual(e.field, "prompt")
            XCTAssertTrue(e.reason.hasPrefix("<lora:wrong_family_sd15:1>: "), e.reason)
        }
    }

    /// Names never leave loras/: a symlink to a file outside is not listed and cannot be named.
    func testSymlinkOutOfTheFolderIsNotAnAdapter() throws {
        let folder = try temporaryLoRAFolder()
        let outside = LoRAParityTests.root.appendingPathComponent("loras/sd1_full.safetensors").path
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("escape.safetensors").path,
                                                   withDestinationPath: outside)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("deep/er"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: outside, toPath: folder.appendingPathComponent("deep/er/inside.safetensors").path)
        let directory = LoRADirectory(path: folder.path)
        XCTAssertEqual(directory.entries().map(\.name), ["deep/er/inside"])
        XCTAssertThrowsError(try directory.resolve("escape"))
        XCTAssertEqual(try directory.resolve("deep/er/inside").name, "deep/er/inside")
        XCTAssertEqual(try directory.resolve("deep/er/inside.safetensors").name, "deep/er/inside")
    }

    /// models.list's entries for loras/: family, type, module count and size from headers; unreadable files say why.
    func testCatalogListsLoRAFilesFromHeaders() throws {
        let models = try temporaryLoRAFolder()
        try FileManager.default.createSymbolicLink(atPath: models.appendingPathComponent("loras").path,
                                                   withDestinationPath: LoRAParityTests.directory.path)
        let listings = Dictionary(uniqueKeysWithValues: ModelHost(directory: models.path).catalog()
            .filter { $0.kind == .lora }.map { ($0.name, $0) })
        XCTAssertTrue(listings.keys.contains("sub/sd1_kohya"), "\(listings.keys.sorted())")
        XCTAssertEqual(listings["sd1_loha"]?.details["lora_type"], "loha")
        XCTAssertEqual(listings["sd1_dora"]?.details["lora_type"], "dora")
        XCTAssertEqual(listings["sd1_kohya_pickle"]?.format, "pt")
        XCTAssertEqual(listings["sd1_kohya_pickle"]?.details["lora_type"], "locon", "its modules include the 3×3 conv_in")
        XCTAssertEqual(listings["sub/sdxl_kohya"]?.details["family"], "sdxl")
        XCTAssertEqual(listings["wrong_family_sd15"]?.details["family"], "sd1")
        XCTAssertEqual(listings["sd1_lokr"]?.details["family"], "unknown")
        let size = try FileManager.default.attributesOfItem(atPath: LoRAParityTests.directory.path + "/sd1_lokr.safetensors")[.size] as? NSNumber
        XCTAssertEqual(listings["sd1_lokr"]?.details["file_bytes"], size?.stringValue)
        XCTAssertGreaterThan(Int(listings["sd1_lokr"]?.details["modules"] ?? "") ?? 0, 0)
        XCTAssertNotNil(listings["corrupt"]?.problem)
        XCTAssertNil(listings["sd1_peft"]?.problem)
    }

    func temporaryLoRAFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lora-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
