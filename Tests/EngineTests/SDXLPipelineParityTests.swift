import Engine
import Foundation
import Imaging
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// SDXL end to end against diffusers' StableDiffusionXLPipeline, StableDiffusionXLImg2ImgPipeline (base and
/// refiner) and StableDiffusionXLInpaintPipeline (9-channel and 4-channel models) on the tiny random SDXL models
/// (Tests/Fixtures/sdxl, scripts/fixtures/make_sdxl_fixtures.py): final latents within 1e-4 relative, 8-bit images
/// within 1/255, from the diffusers folders and from the sgm single files.
final class SDXLPipelineParityTests: XCTestCase {
    nonisolated(unsafe) static var models: [String: LoadedModel] = [:]

    /// `file`: a single file of the model (nil: its diffusers folder).
    static func model(_ name: String, file: String? = nil) throws -> LoadedModel {
        let singleFile = file != nil
        let key = name + "/" + (file ?? "diffusers")
        if let m = models[key] { return m }
        let dir = SDXLConditioningFixtures.root.appendingPathComponent(name)
        let path = dir.appendingPathComponent(file ?? "diffusers").path
        let m: LoadedModel
        if singleFile {
            // Single files carry no vocabulary and the tiny models' is not CLIP's: the folder's tokenizers.
            let networks = try ModelFiles.load(path: path, options: try conventions(name))
            let tokenizers = try networks.textEncoders.map { encoder in
                try CLIPTokenizer(folder: dir.appendingPathComponent("diffusers/\(encoder.slot.tokenizerFolder)"))
            }
            m = try LoadedModel(name: key, path: path, networks: networks, tokenizers: tokenizers)
        } else {
            m = try LoadedModel.load(name: key, path: path)
        }
        models[key] = m
        return m
    }

    /// The tiny models' hyper-parameters that their tensors cannot tell (real SDXL files use the family's).
    static func conventions(_ name: String) throws -> CheckpointOptions {
        let family = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: SDXLConditioningFixtures.root
            .appendingPathComponent("\(name)/family.json"))) as? [String: Any])
        let unet = try XCTUnwrap(family["unet"] as? [String: Any])
        let heads = try XCTUnwrap(unet["attention_head_dim"] as? [Int])
        let channels = try XCTUnwrap(unet["block_out_channels"] as? [Int])
        // Tiny heads (16 channels / heads at the attention level; text heads 32/4 and 48/3) and 4 norm groups
        // instead of SDXL's 64-channel heads and 32 groups.
        var options = CheckpointOptions()
        options.conventions = SingleFileConventions(
            sd1AttentionHeads: 8, sd2AttentionHeadDim: 64, textAttentionHeadDim: 8, unetNormGroups: 4, vaeNormGroups: 4,
            vaeScalingFactor: 0.13025, sdxlAttentionHeadDim: channels[1] / heads[1], secondTextAttentionHeadDim: 16)
        return options
    }

    /// Cases this daemon answers differently on purpose (README, plugins/generate/README.md): diffusers applies
    /// clip skip to the prompt only (we to both, as A1111), and truncates prompts over 77 tokens (we chunk them,
    /// as A1111; `xl_euler_long_chunked` is that case).
    static let deliberateDifferences: Set<String> = ["xl_euler_clipskip1", "xl_euler_long_truncated"]

    func testDiffusersFoldersMatchDiffusers() throws {
        try checkCases(file: nil)
    }

    func testSingleFilesMatchDiffusers() throws {
        try checkCases(file: "single.fp16.safetensors")
    }

    /// bigG stored under Hugging Face names (as some merged checkpoints have it) instead of OpenCLIP's.
    func testSingleFileWithHFLayoutBigGMatchesDiffusers() throws {
        try checkCases(file: "single-hfclipg.safetensors", models: ["base"])
    }

    /// Both layouts name the family, which sets the default size (SDXL 1024², SD 512²) and the refiner's role.
    func testFamilyAndDefaultSize() throws {
        for (name, family) in [("base", "sdxl"), ("refiner", "sdxl-refiner"), ("inpaint", "sdxl")] {
            for file in [nil, "single.fp16.safetensors"] {
                let model = try Self.model(name, file: file)
                XCTAssertEqual(model.networks.family?.rawValue, family, "\(name) \(file ?? "folder")")
                XCTAssertEqual(model.defaultSize, ImageSize(width: 1024, height: 1024))
                XCTAssertEqual(model.networks.flags.requiresAestheticsScore, name == "refiner")
                XCTAssertEqual(model.networks.flags.forceZerosForEmptyPrompt, name != "refiner")
            }
        }
        let sd1 = try PipelineParityTests.model("sd1")
        XCTAssertEqual(sd1.networks.family?.rawValue, "sd1")
        XCTAssertEqual(sd1.defaultSize, ImageSize(width: 512, height: 512))
    }

    func checkCases(file: String?, models only: Set<String>? = nil) throws {
        let cases = try SDXLConditioningFixtures.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 24, "fixture cases missing")
        let refs = try SDXLConditioningFixtures.pipelineReferences()
        var failures: [String] = []
        var checked = 0
        for c in cases {
            guard let name = c["name"] as? String, let mode = c["mode"] as? String, let modelName = c["model"] as? String,
                  !Self.deliberateDifferences.contains(name), mode != "handoff",
                  only.map({ $0.contains(modelName) }) ?? true else { continue }
            let model = try Self.model(modelName, file: file)
            let request = try Self.request(c, refs: refs)
            // diffusers' explicit negative_prompt="" is encoded (ours: "" means "none", zeros under
            // force_zeros_for_empty_prompt); the A1111-style chunked case uses plain 75-token windows.
            var conditioner: (any Conditioner)?
            if c["negative_prompt"] as? String == "" || c["long_prompt"] as? String == "chunks" {
                let networks = model.networks
                let first = networks.textEncoder(.textEncoder), second = networks.textEncoder(.textEncoder2)
                let tokenizers = Dictionary(uniqueKeysWithValues: zip(networks.textEncoders.map(\.slot), model.tokenizers))
                conditioner = try SDXLConditioner(
                    textEncoder: first?.encoder, tokenizer: first.flatMap { tokenizers[$0.slot] },
                    textEncoder2: try XCTUnwrap(second).encoder, tokenizer2: try XCTUnwrap(tokenizers[.textEncoder2]),
                    forceZerosForEmptyPrompt: c["negative_prompt"] as? String != "" && networks.flags.forceZerosForEmptyPrompt,
                    timeIDLayout: networks.flags.requiresAestheticsScore ? .aestheticScore : .sizes,
                    commaBacktrack: c["long_prompt"] as? String == "chunks" ? 0 : 20)
            }
            let result: GenerationResult
            if mode == "inpaint" {
                let mask = try refs.tensor(try XCTUnwrap(c["mask"] as? String))
                let pixelMask = Tensor(shape: [1, 1, request.height, request.width], values: mask.scalars.map { $0 / 255 })
                result = try InpaintPipeline(model: model, conditioner: conditioner).run(request, mask: pixelMask)
            } else {
                result = try StableDiffusionPipeline(model: model, conditioner: conditioner).run(request)
            }
            checked += 1
            let refLatents = try refs.tensor("\(name).latents")
            XCTAssertEqual(result.latents.shape, refLatents.shape, name)
            let latentError = PipelineParityTests.maxAbsDiff(result.latents.scalars, refLatents.scalars)
            let scale = refLatents.scalars.map { abs($0) }.max() ?? 1
            if latentError > 1e-4 * scale { failures.append("\(name): latent max diff \(latentError) (scale \(scale))") }
            let ref8 = try refs.tensor("\(name).image8")
            let pixelError = PipelineParityTests.maxAbsDiff(PipelineParityTests.eightBitHWC(result.images), ref8.scalars)
            if pixelError > 1 { failures.append("\(name): 8-bit max diff \(pixelError)") }
        }
        XCTAssertGreaterThanOrEqual(checked, only == nil ? 20 : 15)
        XCTAssert(failures.isEmpty, "\(file ?? "diffusers folders"):\n" + failures.joined(separator: "\n"))
    }

    /// A case as a request (sizes are diffusers' (height, width) pairs).
    static func request(_ c: [String: Any], refs: SafeTensorsFile) throws -> GenerationRequest {
        var r = GenerationRequest(prompt: c["prompt"] as? String ?? "")
        r.negativePrompt = c["negative_prompt"] as? String ?? ""
        r.prompt2 = c["prompt_2"] as? String
        r.negativePrompt2 = c["negative_prompt_2"] as? String
        r.sampler = try SamplerChoice.parse(sampler: c["sampler"] as? String ?? "euler", scheduler: c["scheduler"] as? String)
        r.steps = c["steps"] as? Int ?? 20
        r.cfgScale = (c["cfg_scale"] as? NSNumber)?.doubleValue ?? 5
        r.seed = UInt64(c["seed"] as? Int ?? 0)
        r.batchSize = c["batch_size"] as? Int ?? 1
        r.width = c["width"] as? Int ?? 32
        r.height = c["height"] as? Int ?? 32
        // diffusers' clip_skip = k counts layers below the penultimate: ours is k + 1.
        if let skip = c["clip_skip"] as? Int { r.clipSkip = skip + 1 }
        r.micro = SDXLConditioningFixtures.micro(c)
        if let key = c["init_image"] as? String {
            r.initImage = PipelineFixtures.imageTensor(hwc: try refs.tensor(key))
            r.strength = (c["strength"] as? NSNumber)?.doubleValue ?? 0.75
        }
        return r
    }
}
