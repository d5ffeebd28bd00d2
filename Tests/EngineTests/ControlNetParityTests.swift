import Engine
import Foundation
import Imaging
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// ControlNets end to end against diffusers' StableDiffusionControlNetPipeline, …Img2ImgPipeline, …InpaintPipeline
/// (9- and 4-channel UNets, and a `padding_mask_crop` run through `ModelInpaint` with area masked) and
/// StableDiffusionXLControlNetPipeline / …Img2ImgPipeline on the tiny models (scripts/fixtures/make_controlnet_fixtures.py):
/// weight, start/end, guess mode with and without guidance (and on a batch of 2), two ControlNets at once, a
/// global-pooling one. Final latents
/// within 1e-4 relative, 8-bit images within 1/255.
final class ControlNetParityTests: XCTestCase {
    static let root = PipelineFixtures.root.appendingPathComponent("controlnet")
    nonisolated(unsafe) static var models: [String: LoadedModel] = [:]
    nonisolated(unsafe) static var controlNets: [String: LoadedControlNet] = [:]

    static func model(_ name: String) throws -> LoadedModel {
        if let m = models[name] { return m }
        let sdxl = ["sdxl": "sdxl/base/diffusers", "sdxl-inpaint": "sdxl/inpaint/diffusers"]
        let path = sdxl[name].map { PipelineFixtures.root.appendingPathComponent($0).path } ?? PipelineFixtures.modelFolder(name)
        let m = try LoadedModel.load(name: name, path: path)
        models[name] = m
        return m
    }

    static func controlNet(_ name: String) throws -> LoadedControlNet {
        if let c = controlNets[name] { return c }
        let c = try LoadedControlNet.load(name: name, path: root.appendingPathComponent("models/\(name)").path)
        controlNets[name] = c
        return c
    }

    /// [H, W, 3] 8-bit values as an RGB image.
    static func image(_ hwc: Tensor) throws -> VipsImage {
        try VipsImage(bytes: hwc.scalars.map { UInt8($0) }, width: hwc.shape[1], height: hwc.shape[0], bands: 3)
    }

    struct Case: Decodable {
        struct Control: Decodable {
            let model, image: String
            let weight, start, end: Double
        }
        let name, mode, model, sampler, prompt, negative_prompt: String
        let steps, seed, batch_size, width, height: Int
        let cfg_scale: Double
        let strength: Double?
        let guess_mode: Bool?
        let padding_mask_crop: Int?
        let init_image, mask: String?
        let controls: [Control]
    }

    func testMatchesDiffusersControlNetPipelines() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Self.root.appendingPathComponent("cases.json")))
        XCTAssertEqual(cases.count, 13, "fixture cases missing")
        let refs = try SafeTensorsFile(path: Self.root.appendingPathComponent("cases.safetensors").path)
        var failures: [String] = []
        for c in cases { failures += try Self.failures(c, refs: refs) }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    /// extra.json: an SD 2 v-prediction ControlNet (StableDiffusionControlNetPipeline, guess mode and start/end on a
    /// batch of 2 too) and StableDiffusionXLControlNetInpaintPipeline on SDXL's 4- and 9-channel UNets, with
    /// `padding_mask_crop` too (area masked).
    func testMatchesDiffusersSD2AndSDXLInpaintControlNetPipelines() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: Self.root.appendingPathComponent("extra.json")))
        XCTAssertEqual(cases.map(\.name), ["sd2_cn_euler", "sd2_cn_guess_ddim_start_end", "xl_cn_inpaint_four", "xl_cn_inpaint_nine",
                                       "xl_cn_inpaint_masked"])
        XCTAssertEqual(try Self.controlNet("sd2-a").family, .sd2, "an SD 2 ControlNet by its linear projections")
        XCTAssertEqual(try Self.model("sd2v").networks.scheduler.predictionType, .vPrediction)
        XCTAssertEqual(try Self.model("sdxl-inpaint").networks.unet.config.inChannels, 9)
        let refs = try SafeTensorsFile(path: Self.root.appendingPathComponent("extra.safetensors").path)
        var failures: [String] = []
        for c in cases { failures += try Self.failures(c, refs: refs) }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    /// One case against its references: what differs beyond the tolerances (latents 1e-4 relative, 8-bit 1/255),
    /// and a reference the control does not change.
    static func failures(_ c: Case, refs: SafeTensorsFile) throws -> [String] {
        var failures: [String] = []
        let model = try Self.model(c.model)
        var request = GenerationRequest(prompt: c.prompt)
        request.negativePrompt = c.negative_prompt
        request.sampler = try SamplerChoice.parse(sampler: c.sampler, scheduler: "normal")
        request.steps = c.steps
        request.cfgScale = c.cfg_scale
        request.seed = UInt64(c.seed)
        request.batchSize = c.batch_size
        request.width = c.width
        request.height = c.height
        request.controls = try c.controls.enumerated().map { i, entry in
            ControlNetInput(controlNet: try Self.controlNet(entry.model),
                            image: try Self.image(try refs.tensor("control.\(entry.image)")),
                            weight: entry.weight, start: entry.start, end: entry.end,
                            guessMode: c.guess_mode ?? false, field: "control[\(i)]")
        }
        let latents: Tensor
        let ours8: [Float]
        switch c.mode {
        case "txt2img", "img2img":
            if let key = c.init_image {
                request.initImage = PipelineFixtures.imageTensor(hwc: try refs.tensor(key))
                request.strength = try XCTUnwrap(c.strength)
            }
            let result = try StableDiffusionPipeline(model: model).run(request)
            latents = result.latents
            ours8 = PipelineParityTests.eightBitHWC(result.images)
        default:
            request.strength = try XCTUnwrap(c.strength)
            let picture = try refs.tensor(try XCTUnwrap(c.init_image))
            let maskValues = try refs.tensor(try XCTUnwrap(c.mask)).scalars.map { $0 / 255 }
            if let padding = c.padding_mask_crop {
                // The crop path: ModelInpaint cuts the region (and the control image with it), pastes back.
                var options = ModelInpaint.Options()
                options.area = .masked(padding: padding)
                options.processingSize = ImageSize(width: c.width, height: c.height)
                var last: Tensor?
                let hooks = StableDiffusionPipeline.Hooks(blend: { x, _ in last = x; return x })
                let pasted = try ModelInpaint(model: model).run(
                    image: try Self.image(picture), mask: try Mask(values: maskValues, width: picture.shape[1],
                                                                    height: picture.shape[0]),
                    request: request, options: options, hooks: hooks)
                latents = try XCTUnwrap(last)
                ours8 = try pasted[0].bytes().map(Float.init)
            } else {
                request.initImage = PipelineFixtures.imageTensor(hwc: picture)
                let mask = Tensor(shape: [1, 1, c.height, c.width], values: maskValues)
                let result = try InpaintPipeline(model: model).run(request, mask: mask)
                latents = result.latents
                ours8 = PipelineParityTests.eightBitHWC(result.images)
            }
        }
        let refLatents = try refs.tensor("\(c.name).latents")
        XCTAssertEqual(latents.shape, refLatents.shape, c.name)
        let latentError = PipelineParityTests.maxAbsDiff(latents.scalars, refLatents.scalars)
        let scale = refLatents.scalars.map { abs($0) }.max() ?? 1
        if latentError > 1e-4 * scale { failures.append("\(c.name): latent max diff \(latentError) (scale \(scale))") }
        if c.padding_mask_crop == nil {
            // The reference depends on the control: the same run without it lands far away.
            var plain = request
            plain.controls = []
            let without: Tensor
            if c.mode == "inpaint" {
                let mask = Tensor(shape: [1, 1, c.height, c.width],
                                  values: try refs.tensor(try XCTUnwrap(c.mask)).scalars.map { $0 / 255 })
                without = try InpaintPipeline(model: model).run(plain, mask: mask).latents
            } else {
                without = try StableDiffusionPipeline(model: model).run(plain).latents
            }
            let change = PipelineParityTests.maxAbsDiff(without.scalars, refLatents.scalars)
            if change < 0.05 * scale { failures.append("\(c.name): the control changes the latents by only \(change)") }
        }
        let ref8 = try refs.tensor("\(c.name).image8").scalars
        XCTAssertEqual(ours8.count, ref8.count, c.name)
        let pixelError = PipelineParityTests.maxAbsDiff(ours8, ref8)
        if pixelError > 1 { failures.append("\(c.name): 8-bit max diff \(pixelError)") }
        return failures
    }
}
