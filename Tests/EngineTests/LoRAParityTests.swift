import Engine
import Foundation
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// LoRA / LyCORIS adapters end to end against Tests/Fixtures/lora (scripts/fixtures/make_lora_fixtures.py):
/// diffusers' `load_lora_weights` + `fuse_lora` for the PEFT files, the published formulas merged into the
/// weights for every other format and type; txt2img on the tiny SD1 and SDXL models, latents within 1e-4
/// relative and 8-bit images within 1/255.
final class LoRAParityTests: XCTestCase {
    static let root = PipelineFixtures.root.appendingPathComponent("lora")
    static var directory: LoRADirectory { LoRADirectory(path: root.appendingPathComponent("loras").path) }

    /// Fresh per test class run; `applying` must never change them.
    nonisolated(unsafe) static var models: [String: LoadedModel] = [:]

    static func model(_ family: String) throws -> LoadedModel {
        if let m = models[family] { return m }
        let path = family == "sdxl" ? SDXLConditioningFixtures.baseFolder.path : PipelineFixtures.modelFolder(family)
        let m = try LoadedModel.load(name: family, path: path)
        models[family] = m
        return m
    }

    static func cases() throws -> [[String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("cases.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    }

    static func references() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: root.appendingPathComponent("cases.safetensors").path)
    }

    static func adapters(_ c: [String: Any]) -> [LoRARequest] {
        let list = c["loras"] as? [[String: Any]] ?? []
        return list.enumerated().map { i, l in
            LoRARequest(name: l["name"] as? String ?? "", weight: (l["weight"] as? NSNumber)?.doubleValue ?? 1,
                           textEncoderWeight: (l["text_encoder_weight"] as? NSNumber)?.doubleValue,
                           unetWeight: (l["unet_weight"] as? NSNumber)?.doubleValue, field: "loras[\(i)]")
        }
    }

    static func request(_ c: [String: Any]) throws -> GenerationRequest {
        var r = GenerationRequest(prompt: c["prompt"] as? String ?? "")
        r.negativePrompt = c["negative_prompt"] as? String ?? ""
        r.sampler = try SamplerChoice.parse(sampler: c["sampler"] as? String ?? "euler", scheduler: c["scheduler"] as? String)
        r.steps = c["steps"] as? Int ?? 4
        r.cfgScale = (c["cfg_scale"] as? NSNumber)?.doubleValue ?? 7.5
        r.seed = UInt64(c["seed"] as? Int ?? 0)
        r.width = c["width"] as? Int ?? 32
        r.height = c["height"] as? Int ?? 32
        return r
    }

    /// Failures of one case against its reference ("" when it matches).
    static func compare(_ name: String, _ result: GenerationResult, _ refs: SafeTensorsFile) throws -> [String] {
        var failures: [String] = []
        let refLatents = try refs.tensor("\(name).latents")
        let latentError = PipelineParityTests.maxAbsDiff(result.latents.scalars, refLatents.scalars)
        let latentScale = refLatents.scalars.map { abs($0) }.max() ?? 1
        if latentError > 1e-4 * latentScale { failures.append("\(name): latent max diff \(latentError) (scale \(latentScale))") }
        let ref8 = try refs.tensor("\(name).image8")
        let pixelError = PipelineParityTests.maxAbsDiff(PipelineParityTests.eightBitHWC(result.images), ref8.scalars)
        if pixelError > 1 { failures.append("\(name): 8-bit max diff \(pixelError)") }
        return failures
    }

    /// The same tiny models as single files (LDM/sgm names, SDXL's bigG in OpenCLIP layout with its fused
    /// in_proj split on load), with the folders' tokenizers; the references apply unchanged.
    static func singleFileModel(_ family: String) throws -> LoadedModel {
        let key = family + "/single"
        if let m = models[key] { return m }
        let m: LoadedModel
        if family == "sdxl" {
            m = try SDXLPipelineParityTests.model("base", file: "single.fp16.safetensors")
        } else {
            // The tiny fixtures cannot follow SD's head/group sizes: their own, from family.json.
            let info = try JSONSerialization.jsonObject(with: Data(contentsOf: PipelineFixtures.root
                .appendingPathComponent("sd/\(family)/family.json"))) as? [String: Any]
            let declared = try XCTUnwrap(info?["conventions"] as? [String: Int])
            var conventions = SingleFileConventions.stableDiffusion
            if let heads = declared["sd1_heads"] { conventions.sd1AttentionHeads = heads }
            if let dim = declared["sd2_head_dim"] { conventions.sd2AttentionHeadDim = dim }
            conventions.textAttentionHeadDim = try XCTUnwrap(declared["text_head_dim"])
            conventions.unetNormGroups = try XCTUnwrap(declared["unet_norm_groups"])
            conventions.vaeNormGroups = try XCTUnwrap(declared["vae_norm_groups"])
            let networks = try ModelFiles.load(path: PipelineFixtures.singleFile(family), options: CheckpointOptions(conventions: conventions))
            let folder = URL(fileURLWithPath: PipelineFixtures.modelFolder(family))
            let tokenizers = try networks.textEncoders.map { try CLIPTokenizer(folder: folder.appendingPathComponent($0.slot.tokenizerFolder)) }
            m = try LoadedModel(name: family, path: PipelineFixtures.singleFile(family), networks: networks, tokenizers: tokenizers)
        }
        models[key] = m
        return m
    }

    func run(families: Set<String>, singleFile: Bool = false, only: ((String) -> Bool)? = nil, expected: Int? = nil) throws {
        let cases = try Self.cases().filter {
            families.contains($0["family"] as? String ?? "") && (only?($0["name"] as? String ?? "") ?? true)
        }
        XCTAssertGreaterThanOrEqual(cases.count, expected ?? 12 * families.count, "fixture cases missing")
        let refs = try Self.references()
        var failures: [String] = []
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            let family = try XCTUnwrap(c["family"] as? String)
            let base = singleFile ? try Self.singleFileModel(family) : try Self.model(family)
            let requests = Self.adapters(c)
            let adapted = try base.applying(requests, directory: Self.directory)
            XCTAssertEqual(adapted.reports.count, requests.count, name)
            for report in adapted.reports {
                XCTAssertEqual(report.matched, report.total, "\(name) \(report.name): unmatched \(report.unmatched)")
                XCTAssertNil(report.warning, name)
            }
            let result = try StableDiffusionPipeline(model: adapted.model).run(try Self.request(c))
            failures += try Self.compare(name, result, refs)
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    func testSD1AdaptersMatchReferences() throws {
        try run(families: ["sd1"])
    }

    func testSDXLAdaptersMatchReferences() throws {
        try run(families: ["sdxl"])
    }

    /// LCM-LoRA's path: the lcm sampler, 4 steps, cfg 1, a diffusers-format LoRA at weight 1, against
    /// diffusers' LCMScheduler + load_lora_weights + fuse_lora (also part of the family runs).
    func testLCMLoRAWithTheLCMSamplerMatchesDiffusers() throws {
        try run(families: ["sd1", "sdxl"], only: { $0.hasSuffix("_lcm_lora") }, expected: 2)
    }

    /// SD 2.x (v-prediction): OpenCLIP-H text encoder in transformers' layout in the folder, fused in_proj in the
    /// single file.
    func testSD2AdaptersMatchReferences() throws {
        try run(families: ["sd2v"])
    }

    /// kohya SDXL keys are sgm paths; on a single file they must land where the folder's diffusers names do, and
    /// a LoRA on OpenCLIP's fused in_proj on the rows our loader split into q/k/v.
    func testAdaptersOnSingleFilesMatchTheSameReferences() throws {
        try run(families: ["sd1", "sd2v", "sdxl"], singleFile: true)
    }

    /// A 4-channel LoRA on a 9-channel inpainting conv_in: the latent channels get the delta, the mask and
    /// masked-image channels none; every other module matches as on the 4-channel model.
    func testFourChannelLoRAOnNineChannelInpaintingConvIn() throws {
        let model = try LoadedModel.load(name: "sd1-inpaint", path: PipelineFixtures.modelFolder("sd1-inpaint"))
        XCTAssertTrue(model.networks.isInpainting)
        let adapted = try model.applying([LoRARequest(name: "sd1_peft", weight: 0.8, field: "loras[0]")], directory: Self.directory)
        let report = try XCTUnwrap(adapted.reports.first)
        XCTAssertEqual(report.matched, report.total, "\(report.unmatched)")
        let expected = try Self.references().tensor("sd1_inpaint_peft.conv_in.weight")
        let patched = try XCTUnwrap(adapted.model.networks.weights?.unet.tensors["conv_in.weight"])
        XCTAssertEqual(patched.shape, expected.shape)
        XCTAssertEqual(patched.shape[1], 9)
        let error = PipelineParityTests.maxAbsDiff(patched.scalars, expected.scalars)
        XCTAssertLessThanOrEqual(error, 1e-6 * (expected.scalars.map { abs($0) }.max() ?? 1))
        let basis = try XCTUnwrap(model.networks.weights?.unet.tensors["conv_in.weight"]).scalars
        let plane = 9, kernel = 9
        for o in 0..<patched.shape[0] {
            for c in 4..<plane {
                let range = ((o * plane + c) * kernel)..<((o * plane + c + 1) * kernel)
                XCTAssertEqual(Array(patched.scalars[range]), Array(basis[range]), "mask/masked-image channels unchanged")
            }
        }
    }
}
