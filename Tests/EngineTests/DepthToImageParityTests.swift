import Engine
import Foundation
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// SD 2 depth-to-image (a 5-channel UNet: latents + the user's depth map) against diffusers'
/// StableDiffusionDepth2ImgPipeline with `depth_map`, on the tiny model of scripts/fixtures/make_depth_fixtures.py,
/// from its diffusers folder and from an LDM single file that also carries MiDaS tensors (ignored).
final class DepthToImageParityTests: XCTestCase {
    static let root = PipelineFixtures.root.appendingPathComponent("depth")

    static func cases() throws -> [[String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("cases.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    }

    /// The single file beside the tiny SD2 config (heads, norm groups), epsilon like the real 512-depth-ema,
    /// in a folder the calling test removes when it ends.
    func singleFile() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("depth-\(getpid())-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("512-depth-tiny.safetensors").path
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: Self.root.appendingPathComponent("single.safetensors").path)
        let yaml = try String(contentsOf: PipelineFixtures.root.appendingPathComponent("sidecars/sd2v.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "    parameterization: \"v\"\n", with: "")
            .replacingOccurrences(of: "in_channels: 4", with: "in_channels: 5")
        try yaml.write(toFile: dir.appendingPathComponent("512-depth-tiny.yaml").path, atomically: true, encoding: .utf8)
        return path
    }

    func request(_ c: [String: Any], refs: SafeTensorsFile) throws -> GenerationRequest {
        var request = GenerationRequest(prompt: try XCTUnwrap(c["prompt"] as? String))
        request.negativePrompt = c["negative_prompt"] as? String ?? ""
        request.sampler = try SamplerChoice.parse(sampler: try XCTUnwrap(c["sampler"] as? String),
                                                  scheduler: c["scheduler"] as? String)
        request.steps = try XCTUnwrap(c["steps"] as? Int)
        request.cfgScale = try XCTUnwrap((c["cfg_scale"] as? NSNumber)?.doubleValue)
        request.seed = UInt64(try XCTUnwrap(c["seed"] as? Int))
        request.batchSize = try XCTUnwrap(c["batch_size"] as? Int)
        request.width = try XCTUnwrap(c["width"] as? Int)
        request.height = try XCTUnwrap(c["height"] as? Int)
        request.strength = try XCTUnwrap((c["strength"] as? NSNumber)?.doubleValue)
        request.initImage = PipelineFixtures.imageTensor(hwc: try refs.tensor(try XCTUnwrap(c["init_image"] as? String)))
        let name = try XCTUnwrap(c["name"] as? String)
        let depth = try refs.tensor("depth.\(name)")
        request.depthMap = depth.reshaped([1, 1, depth.shape[1], depth.shape[2]])
        return request
    }

    func testDepthToImageMatchesDiffusersFromFolderAndSingleFile() throws {
        let refs = try SafeTensorsFile(path: Self.root.appendingPathComponent("cases.safetensors").path)
        let folder = try LoadedModel.load(name: "depth", path: Self.root.appendingPathComponent("diffusers").path)
        // Single files carry no vocabulary; the tiny model's is the folder's (1000 tokens).
        let networks = try ModelFiles.load(path: try singleFile())
        let single = try LoadedModel(name: "depth-single", path: "", networks: networks,
                                     tokenizers: [try CLIPTokenizer(folder: Self.root.appendingPathComponent("diffusers/tokenizer"))])
        XCTAssertEqual(single.networks.unet.config.inChannels, 5)
        XCTAssertEqual(single.networks.predictionType, .epsilon)
        // models.list reads the same file from its header: SD2, a 5-channel UNet, the MiDaS tensors no obstacle.
        let described = try XCTUnwrap(try ModelProbe.describe(path: try singleFile()).stableDiffusion)
        XCTAssertEqual(described.family, .sd2)
        XCTAssertEqual(described.unetInChannels, 5)
        let cases = try Self.cases()
        XCTAssertEqual(cases.count, 3)
        var failures: [String] = []
        for model in [folder, single] {
            for c in cases {
                let name = try XCTUnwrap(c["name"] as? String)
                let result = try StableDiffusionPipeline(model: model).run(try request(c, refs: refs))
                let reference = try refs.tensor("\(name).latents")
                XCTAssertEqual(result.latents.shape, reference.shape, name)
                let error = PipelineParityTests.maxAbsDiff(result.latents.scalars, reference.scalars)
                let scale = reference.scalars.map { abs($0) }.max() ?? 1
                if error > 1e-4 * scale { failures.append("\(model.name) \(name): latent max diff \(error) (scale \(scale))") }
                let pixels = PipelineParityTests.maxAbsDiff(PipelineParityTests.eightBitHWC(result.images),
                                                            try refs.tensor("\(name).image8").scalars)
                if pixels > 1 { failures.append("\(model.name) \(name): 8-bit max diff \(pixels)") }
            }
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    /// The map's encoding does not matter (min-max normalisation), its content does.
    func testDepthMapEncodingIsIrrelevantButContentMatters() throws {
        let refs = try SafeTensorsFile(path: Self.root.appendingPathComponent("cases.safetensors").path)
        let model = try LoadedModel.load(name: "depth", path: Self.root.appendingPathComponent("diffusers").path)
        let c = try XCTUnwrap(try Self.cases().first)
        var request = try request(c, refs: refs)
        let pipeline = StableDiffusionPipeline(model: model)
        let base = try pipeline.run(request).latents
        let depth = try XCTUnwrap(request.depthMap)
        request.depthMap = depth * Float(1.0 / 255)
        let rescaled = try pipeline.run(request).latents
        XCTAssertLessThanOrEqual(PipelineParityTests.maxAbsDiff(rescaled.scalars, base.scalars),
                                 1e-4 * (base.scalars.map { abs($0) }.max() ?? 1))
        request.depthMap = depth * Float(-1)
        let inverted = try pipeline.run(request).latents
        XCTAssertGreaterThan(PipelineParityTests.maxAbsDiff(inverted.scalars, base.scalars), 0.1)
    }

    func testDepthModelsNeedAMapAndOthersRefuseOne() throws {
        let refs = try SafeTensorsFile(path: Self.root.appendingPathComponent("cases.safetensors").path)
        let model = try LoadedModel.load(name: "depth", path: Self.root.appendingPathComponent("diffusers").path)
        let c = try XCTUnwrap(try Self.cases().first)
        var request = try request(c, refs: refs)
        func field(_ run: () throws -> Void) -> String? {
            do { try run() } catch let EngineError.invalidParameter(field, _) { return field } catch { return "\(error)" }
            return nil
        }
        let depth = request.depthMap
        request.depthMap = nil
        XCTAssertEqual(field { _ = try StableDiffusionPipeline(model: model).run(request) }, "depth_map")
        request.depthMap = Tensor(shape: [1, 1, 8, 8], values: [Float](repeating: 3, count: 64))
        XCTAssertEqual(field { _ = try StableDiffusionPipeline(model: model).run(request) }, "depth_map", "a flat map")
        request.depthMap = Tensor(shape: [1, 2, 8, 8])
        XCTAssertEqual(field { _ = try StableDiffusionPipeline(model: model).run(request) }, "depth_map", "two channels")
        var txt2img = request
        txt2img.initImage = nil
        txt2img.depthMap = depth
        XCTAssertEqual(field { _ = try StableDiffusionPipeline(model: model).run(txt2img) }, "model", "txt2img")
        request.depthMap = depth
        XCTAssertEqual(field { _ = try StableDiffusionPipeline(model: try PipelineParityTests.model("sd2v")).run(request) },
                       "depth_map", "a plain model refuses a depth map")
    }
}

/// `resizeBicubic` is torch's `F.interpolate(mode="bicubic", align_corners=False)`: up and down, odd sizes.
final class BicubicResizeTests: XCTestCase {
    func testMatchesTorchOnASmallRamp() throws {
        // torch.arange(12.).reshape(1, 1, 3, 4) ** 2 resized to (5, 3) and (2, 7), printed by torch 2.15.
        let x = Tensor(shape: [1, 1, 3, 4], values: (0 ..< 12).map { Float($0 * $0) })
        let down = resizeBicubic(x, height: 5, width: 3)
        let expectedDown: [Float] = [-1.5414534, -0.5629984, 4.591383, 3.1623762, 8.6690197, 18.3515911, 17.1006966,
                                     30.125, 47.3252373, 48.3190384, 68.8610001, 93.5789185, 70.8148651, 95.8850098,
                                     125.1311188]
        XCTAssertEqual(down.shape, [1, 1, 5, 3])
        for (a, b) in zip(down.scalars, expectedDown) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        let wide = resizeBicubic(x, height: 2, width: 7)
        let expectedWide: [Float] = [1.6863593, 2.5213428, 4.114615, 6.359375, 9.583003, 13.5844297, 16.1792564,
                                     52.1527672, 57.8840675, 67.4642715, 77.515625, 88.5458603, 100.5341797, 108.0253677]
        XCTAssertEqual(wide.shape, [1, 1, 2, 7])
        for (a, b) in zip(wide.scalars, expectedWide) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }
}
