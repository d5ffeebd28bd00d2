import Engine
import Foundation
import Models
import Sampling
import Tensor
import Weights
import XCTest

/// T2I-Adapters against diffusers (scripts/fixtures/make_t2i_adapter_fixtures.py): each adapter's features from
/// every layout it is stored in, StableDiffusionAdapterPipeline / StableDiffusionXLAdapterPipeline end to end
/// (weights, two adapters, the factor), and the UNet's XL mid-block rule.
final class T2IAdapterParityTests: XCTestCase {
    static let root = PipelineFixtures.root.appendingPathComponent("t2i_adapter")

    static func refs() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: root.appendingPathComponent("cases.safetensors").path)
    }

    /// The control picture as diffusers' adapter preprocessing makes it: [1, C, H, W] 8-bit values / 255.
    static func picture(grey: Bool) throws -> Tensor {
        try refs().tensor(grey ? "picture.grey" : "picture.rgb")
    }

    func assertClose(_ a: Tensor, _ b: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        guard a.shape == b.shape else { return }
        let error = PipelineParityTests.maxAbsDiff(a.scalars, b.scalars)
        let scale = b.scalars.map { abs($0) }.max() ?? 1
        XCTAssertLessThanOrEqual(error, 1e-4 * max(scale, 1e-6), "\(what): max diff \(error) (scale \(scale))", file: file, line: line)
    }

    func testFeaturesMatchDiffusersInEveryLayout() throws {
        let refs = try Self.refs()
        let layouts: [(adapter: String, files: [String], grey: Bool)] = [
            ("sd1-full", ["sd1-full", "sd1-full.pth"], false),
            ("sd1-light", ["sd1-light", "sd1-light.pth"], false),
            ("sd1-sketch", ["sd1-sketch.safetensors"], true),
            ("xl-full", ["xl-full"], false),
        ]
        for (name, files, grey) in layouts {
            for file in files {
                let adapter = try T2IAdapterFiles.load(path: Self.root.appendingPathComponent(file).path)
                let features = try adapter.features(try Self.picture(grey: grey))
                var expected: [Tensor] = []
                while let f = try? refs.tensor("features.\(name).\(expected.count)") { expected.append(f) }
                XCTAssertEqual(features.count, expected.count, file)
                for (i, (a, b)) in zip(features, expected).enumerated() { assertClose(a, b, "\(file) feature \(i)") }
            }
        }
        let light = try T2IAdapterFiles.load(path: Self.root.appendingPathComponent("sd1-light.pth").path)
        XCTAssertEqual(light.config.kind, .light)
        XCTAssertEqual(light.config.channels, [16, 24])
        let xl = try T2IAdapterFiles.load(path: Self.root.appendingPathComponent("xl-full").path)
        XCTAssertEqual(xl.config.family, "sdxl")
    }

    func testPipelinesMatchDiffusers() throws {
        let refs = try Self.refs()
        let data = try Data(contentsOf: Self.root.appendingPathComponent("cases.json"))
        let cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        XCTAssertEqual(cases.count, 5)
        let sd1 = try PipelineParityTests.model("sd1")
        let xl = try LoadedModel.load(name: "xl", path: PipelineFixtures.root.appendingPathComponent("sdxl/base/diffusers").path)
        let files = ["sd1-full": "sd1-full", "sd1-light": "sd1-light", "sd1-sketch": "sd1-sketch.safetensors", "xl-full": "xl-full"]
        var failures: [String] = []
        for c in cases {
            let name = try XCTUnwrap(c["name"] as? String)
            var request = GenerationRequest(prompt: try XCTUnwrap(c["prompt"] as? String))
            request.negativePrompt = c["negative_prompt"] as? String ?? ""
            request.sampler = try SamplerChoice.parse(sampler: try XCTUnwrap(c["sampler"] as? String), scheduler: c["scheduler"] as? String)
            request.steps = try XCTUnwrap(c["steps"] as? Int)
            request.cfgScale = try XCTUnwrap((c["cfg_scale"] as? NSNumber)?.doubleValue)
            request.seed = UInt64(try XCTUnwrap(c["seed"] as? Int))
            request.width = 32
            request.height = 32
            let factor = (c["factor"] as? NSNumber)?.doubleValue ?? 1
            for entry in try XCTUnwrap(c["adapters"] as? [[String: Any]]) {
                let adapterName = try XCTUnwrap(entry["model"] as? String)
                let adapter = try T2IAdapterFiles.load(path: Self.root.appendingPathComponent(try XCTUnwrap(files[adapterName])).path)
                request.adapters.append(T2IAdapterControl(name: adapterName, adapter: adapter,
                                                          image: try Self.picture(grey: adapter.config.inChannels == 1),
                                                          weight: try XCTUnwrap((entry["weight"] as? NSNumber)?.doubleValue), factor: factor))
            }
            let model = (c["model"] as? String) == "xl" ? xl : sd1
            let result = try StableDiffusionPipeline(model: model).run(request)
            let reference = try refs.tensor("\(name).latents")
            let error = PipelineParityTests.maxAbsDiff(result.latents.scalars, reference.scalars)
            let scale = reference.scalars.map { abs($0) }.max() ?? 1
            if error > 1e-4 * scale { failures.append("\(name): latent max diff \(error) (scale \(scale))") }
            let pixels = PipelineParityTests.maxAbsDiff(PipelineParityTests.eightBitHWC(result.images), try refs.tensor("\(name).image8").scalars)
            if pixels > 1 { failures.append("\(name): 8-bit max diff \(pixels)") }
        }
        XCTAssert(failures.isEmpty, failures.joined(separator: "\n"))
    }

    /// A feature with the mid block's output shape left after the down blocks is added there (T2I-Adapter-XL).
    func testUNetAddsALeftoverFeatureAfterTheMidBlock() throws {
        let refs = try Self.refs()
        let xl = try LoadedModel.load(name: "xl", path: PipelineFixtures.root.appendingPathComponent("sdxl/base/diffusers").path)
        let residuals = try (0 ..< 3).map { try refs.tensor("unet_mid.residual.\($0)") }
        let conditioning = UNetConditioning(
            context: try refs.tensor("unet_mid.context"),
            added: AddedConditioning(textEmbeds: try refs.tensor("unet_mid.text_embeds"), timeIDs: try refs.tensor("unet_mid.time_ids")),
            adapterFeatures: residuals)
        let out = try xl.networks.unet.forward(latents: try refs.tensor("unet_mid.latents"), timestep: 500, conditioning: conditioning)
        assertClose(out, try refs.tensor("unet_mid.out"), "UNet with adapter features")
    }

    func testAdaptersThatDoNotFitAreRefusedNamingTheEntry() throws {
        let sd1 = try PipelineParityTests.model("sd1")
        let xlAdapter = try T2IAdapterFiles.load(path: Self.root.appendingPathComponent("xl-full").path)
        let full = try T2IAdapterFiles.load(path: Self.root.appendingPathComponent("sd1-full").path)
        var request = GenerationRequest(prompt: "x")
        request.width = 32
        request.height = 32
        request.steps = 2
        func field(_ r: GenerationRequest) -> String? {
            do { _ = try StableDiffusionPipeline(model: sd1).run(r) } catch let EngineError.invalidParameter(field, _) { return field } catch {
                return "\(error)"
            }
            return nil
        }
        request.adapters = [T2IAdapterControl(name: "sd1-full", adapter: full, image: try Self.picture(grey: false)),
                            T2IAdapterControl(name: "xl-full", adapter: xlAdapter, image: try Self.picture(grey: false))]
        XCTAssertEqual(field(request), "adapters[1].model", "an SDXL adapter on an SD1 model")
        request.adapters = [T2IAdapterControl(name: "sd1-full", adapter: full, image: Tensor(shape: [1, 3, 16, 16]))]
        XCTAssertEqual(field(request), "adapters[0].image", "a picture not at the output size")
        request.adapters = [T2IAdapterControl(name: "sd1-full", adapter: full, image: try Self.picture(grey: false), factor: 1.5)]
        XCTAssertEqual(field(request), "adapters[0].factor")
        request.adapters = [T2IAdapterControl(name: "sd1-full", adapter: full, image: try Self.picture(grey: false), weight: .nan)]
        XCTAssertEqual(field(request), "adapters[0].weight")
    }
}
