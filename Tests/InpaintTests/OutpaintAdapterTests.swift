import DiffusionProtocol
import Engine
import Foundation
import Imaging
import Models
import OutpaintPlugin
import PluginAPI
import StrictJSON
import XCTest

/// T2I-Adapters in outpaint: the picture covers the extended canvas (stretched to it, as control images are), so
/// one pass equals inpainting the filled canvas with the stretched picture; windows cut their piece out; the
/// original stays bit-identical. Tiny sd1-inpaint model and sd1-full adapter (scripts/fixtures/).
final class OutpaintAdapterTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func model() throws -> LoadedModel {
        try LoadedModel.load(name: "sd1-inpaint", path: fixtures.appendingPathComponent("sd/sd1-inpaint/diffusers").path)
    }

    /// Diagonal stripes of `w` × `h`: a picture whose every window differs.
    static func stripes(width w: Int, height h: Int) throws -> VipsImage {
        let bytes = (0 ..< (w * h * 3)).map { i -> UInt8 in ((i / 3 % w + i / 3 / w) / 3) % 2 == 0 ? 255 : 0 }
        return try VipsImage(bytes: bytes, width: w, height: h, bands: 3)
    }

    static func adapter(_ picture: VipsImage) throws -> T2IAdapterPicture {
        let adapter = try T2IAdapterFiles.load(path: fixtures.appendingPathComponent("t2i_adapter/sd1-full").path)
        return T2IAdapterPicture(index: 0, name: "lineart", adapter: adapter, picture: picture, weight: 1, factor: 1)
    }

    func request() -> GenerationRequest {
        var request = GenerationRequest(prompt: "a stone bridge")
        request.steps = 3
        request.seed = 5
        request.strength = 1
        return request
    }

    func testOnePassEqualsInpaintingTheCanvasWithTheStretchedPicture() throws {
        let inpaint = ModelInpaint(model: try Self.model())
        let image = try TestImages.make(.rgb8, width: 24, height: 16, seed: 3)
        let ext = try CanvasExtension(left: 0, top: 0, right: 8, bottom: 8)
        let picture = try Self.stripes(width: 20, height: 12)  // any size: stretched to the 32 × 24 canvas
        var options = ModelInpaint.Options()
        options.adapters = [try Self.adapter(picture)]
        let steered = try inpaint.outpaint(image: image, extension: ext, fill: .edge, seamFeather: 0, request: request(),
                                           options: options, modelResolution: 512)[0]
        let plain = try inpaint.outpaint(image: image, extension: ext, fill: .edge, seamFeather: 0, request: request(),
                                         options: ModelInpaint.Options(), modelResolution: 512)[0]
        XCTAssertEqual([steered.width, steered.height], [32, 24])
        XCTAssertNotEqual(try TestImages.samples(steered), try TestImages.samples(plain), "the adapter steers the new area")
        try assertIdentical(steered, image, in: PixelRect(x: 0, y: 0, width: 24, height: 16), "original kept")

        let canvas = try image.extended(by: ext, fill: .edge, seamFeather: 0)
        var whole = ModelInpaint.Options()
        whole.processingSize = canvas.image.size
        whole.adapters = [try Self.adapter(try picture.resized(width: 32, height: 24, kernel: .lanczos3))]
        let expected = try inpaint.run(image: canvas.image, mask: canvas.mask, request: request(), options: whole)[0]
        XCTAssertEqual(try TestImages.samples(steered), try TestImages.samples(expected))
    }

    func testWindowsCutTheirPieceOfThePicture() throws {
        let inpaint = ModelInpaint(model: try Self.model())
        let image = try TestImages.make(.rgb8, width: 70, height: 30, seed: 4)
        let ext = try CanvasExtension(left: 0, top: 7, right: 41, bottom: 0)
        var options = ModelInpaint.Options()
        options.adapters = [try Self.adapter(try Self.stripes(width: 111, height: 37))]
        let steered = try inpaint.outpaint(image: image, extension: ext, fill: .edge, seamFeather: 2, request: request(),
                                           options: options, modelResolution: 64)[0]
        let plain = try inpaint.outpaint(image: image, extension: ext, fill: .edge, seamFeather: 2, request: request(),
                                         options: ModelInpaint.Options(), modelResolution: 64)[0]
        XCTAssertEqual([steered.width, steered.height], [111, 37])
        XCTAssertNotEqual(try TestImages.samples(steered), try TestImages.samples(plain))
        let reach = 2
        try assertIdentical(steered, image, in: PixelRect(x: 0, y: 7 + reach, width: 70 - reach, height: 30 - reach),
                            offset: (0, 7), "original kept beyond the seam feather")
    }

    /// Sides the model runs at are multiples of the VAE's 8 and of every adapter's downscale (16 for SDXL's
    /// adapters): regions, canvases and windows are sized for them rather than refused when the run starts.
    func testProcessingSidesFollowTheCoarsestAdapter() throws {
        XCTAssertEqual(ModelInpaint.Options.sizeMultiple(downscaleFactors: []), 8)
        XCTAssertEqual(ModelInpaint.Options.sizeMultiple(downscaleFactors: [8]), 8)
        XCTAssertEqual(ModelInpaint.Options.sizeMultiple(downscaleFactors: [16]), 16)
        XCTAssertEqual(ModelInpaint.Options.sizeMultiple(downscaleFactors: [8, 16, 4]), 16)
        XCTAssertEqual(ModelInpaint.Options.sizeMultiple(downscaleFactors: [12]), 24)
        XCTAssertEqual(ModelInpaint.rounded(ImageSize(width: 26, height: 22), toMultipleOf: 16), ImageSize(width: 32, height: 16))
        XCTAssertEqual(ModelInpaint.rounded(ImageSize(width: 5, height: 40), toMultipleOf: 16), ImageSize(width: 16, height: 48))
        XCTAssertEqual(ModelInpaint.rounded(ImageSize(width: 30, height: 22), toMultipleOf: 8), ModelInpaint.roundedTo8(ImageSize(width: 30, height: 22)))
        let (aligned, crop) = try CanvasExtension(left: 0, top: 0, right: 8, bottom: 8).aligned(toMultipleOf: 16, imageSize: ImageSize(width: 24, height: 16))
        XCTAssertEqual(aligned.canvasSize(for: ImageSize(width: 24, height: 16)), ImageSize(width: 32, height: 32))
        XCTAssertEqual(crop, PixelRect(x: 0, y: 0, width: 32, height: 24))
    }

    /// The SDXL adapter in outpaint, in one pass and in windows, on canvases of any size.
    func testSDXLAdapterOutpaintsCanvasesOfAnySize() throws {
        let xl = try LoadedModel.load(name: "xl", path: Self.fixtures.appendingPathComponent("sdxl/base/diffusers").path)
        let adapter = try T2IAdapterFiles.load(path: Self.fixtures.appendingPathComponent("t2i_adapter/xl-full").path)
        let multiple = ModelInpaint.Options.sizeMultiple(downscaleFactors: [adapter.config.downscaleFactor])
        let picture = try Self.stripes(width: 32, height: 24)
        var options = ModelInpaint.Options()
        options.adapters = [T2IAdapterPicture(index: 0, name: "xl", adapter: adapter, picture: picture, weight: 1, factor: 1)]
        XCTAssertEqual(options.sizeMultiple, multiple)
        let inpaint = ModelInpaint(model: xl)
        let image = try TestImages.make(.rgb8, width: 24, height: 16, seed: 3)
        let ext = try CanvasExtension(left: 0, top: 0, right: 8, bottom: 8)  // a 32 × 24 canvas
        let steered = try inpaint.outpaint(image: image, extension: ext, fill: .edge, seamFeather: 0, request: request(),
                                           options: options, modelResolution: 1024)[0]
        XCTAssertEqual([steered.width, steered.height], [32, 24])
        try assertIdentical(steered, image, in: PixelRect(x: 0, y: 0, width: 24, height: 16), "original kept")
        let plain = try inpaint.outpaint(image: image, extension: ext, fill: .edge, seamFeather: 0, request: request(),
                                         options: ModelInpaint.Options(), modelResolution: 1024)[0]
        XCTAssertNotEqual(try TestImages.samples(steered), try TestImages.samples(plain), "the adapter steers the new area")

        // The same as inpainting the canvas aligned to the multiple and cropping to 32 × 24.
        let (aligned, crop) = ext.aligned(toMultipleOf: multiple, imageSize: image.size)
        let canvas = try image.extended(by: aligned, fill: .edge, seamFeather: 0)
        var whole = ModelInpaint.Options()
        whole.processingSize = canvas.image.size
        whole.adapters = [T2IAdapterPicture(index: 0, name: "xl", adapter: adapter,
                                            picture: try picture.resized(width: canvas.image.width, height: canvas.image.height,
                                                                         kernel: .lanczos3), weight: 1, factor: 1)]
        let expected = try inpaint.run(image: canvas.image, mask: canvas.mask, request: request(), options: whole)[0]
        XCTAssertEqual(try TestImages.samples(steered), try TestImages.samples(try expected.cropped(to: crop)))

        // Windows along a border (a 72-pixel model resolution) are sized in the multiple too.
        let wide = try TestImages.make(.rgb8, width: 70, height: 30, seed: 4)
        var windowed = ModelInpaint.Options()
        windowed.adapters = [T2IAdapterPicture(index: 0, name: "xl", adapter: adapter,
                                               picture: try Self.stripes(width: 111, height: 37), weight: 1, factor: 1)]
        let out = try inpaint.outpaint(image: wide, extension: try CanvasExtension(left: 0, top: 7, right: 41, bottom: 0),
                                       fill: .edge, seamFeather: 2, request: request(), options: windowed, modelResolution: 72)[0]
        XCTAssertEqual([out.width, out.height], [111, 37])
    }

    /// Inpainting a masked area of any size with the SDXL adapter: the region is sized for it.
    func testSDXLAdapterInpaintsAMaskedRegionOfAnySize() throws {
        let xl = try LoadedModel.load(name: "xl", path: Self.fixtures.appendingPathComponent("sdxl/base/diffusers").path)
        let adapter = try T2IAdapterFiles.load(path: Self.fixtures.appendingPathComponent("t2i_adapter/xl-full").path)
        let image = try TestImages.make(.rgb8, width: 40, height: 36, seed: 6)
        var values = [Float](repeating: 0, count: 40 * 36)
        for y in 5 ..< 27 { for x in 3 ..< 29 { values[y * 40 + x] = 1 } }  // a 26 × 22 region
        let mask = try Mask(values: values, width: 40, height: 36)
        var options = ModelInpaint.Options()
        options.area = .masked(padding: 0)
        options.adapters = [T2IAdapterPicture(index: 0, name: "xl", adapter: adapter,
                                              picture: try Self.stripes(width: 40, height: 36), weight: 1, factor: 1)]
        let out = try ModelInpaint(model: xl).run(image: image, mask: mask, request: request(), options: options)[0]
        XCTAssertEqual([out.width, out.height], [40, 36])
        try assertIdentical(out, image, in: PixelRect(x: 30, y: 0, width: 10, height: 36), "outside the mask kept")
    }

    /// Through the plugin: `adapters` is accepted, reported, and bad entries are refused naming them.
    func testPluginTakesAdaptersAndRefusesBadOnes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("outpaint-adapters-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/t2i_adapter", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/tiny",
                                                   withDestinationPath: Self.fixtures.appendingPathComponent("sd/sd1-inpaint/diffusers").path)
        try FileManager.default.createSymbolicLink(atPath: dir + "/t2i_adapter/lineart",
                                                   withDestinationPath: Self.fixtures.appendingPathComponent("t2i_adapter/sd1-full").path)
        try FileManager.default.createSymbolicLink(atPath: dir + "/t2i_adapter/xl",
                                                   withDestinationPath: Self.fixtures.appendingPathComponent("t2i_adapter/xl-full").path)
        let context = JobContext(requestID: .integer(1), method: "outpaint", pathPolicy: PathPolicy(), modelsDirectory: dir,
                                 cancellation: CancellationToken(), progressSink: { _ in })
        let image = try TestImages.png(try TestImages.make(.rgb8, width: 24, height: 16, seed: 3))
        let picture = try TestImages.png(try Self.stripes(width: 32, height: 24))
        func run(_ adapters: JSONValue, model: Bool = true) throws -> JSONValue {
            var params: [String: JSONValue] = ["image": image, "extend": ["right": 8, "bottom": 8], "fill": "edge",
                                               "prompt": "a stone bridge", "steps": 2, "seed": 5, "adapters": adapters]
            if model { params["model"] = "tiny" }
            let plugin = OutpaintPlugin()
            try SchemaValidator.validate(.object(params), against: plugin.paramsSchema)
            return try plugin.run(params: params, context: context)
        }
        let result = try run([["model": "lineart", "image": picture, "weight": 0.8]])
        XCTAssertEqual(result["adapters"]?.arrayValue?.first?["model"], "lineart", "\(result)")
        XCTAssertEqual(result["adapters"]?.arrayValue?.first?["weight"], 0.8)
        XCTAssertEqual(result["image"]?["width"]?.intValue, 32, "\(result)")

        func refusedField(_ adapters: JSONValue, model: Bool = true) -> String? {
            do { _ = try run(adapters, model: model) } catch PluginError.invalidParam(let field, _) { return field
            } catch PluginError.unsupportedImage(let field, _) { return field } catch {
                return "\(error)"
            }
            return nil
        }
        XCTAssertEqual(refusedField([["model": "nope", "image": picture]]), "adapters[0].model")
        XCTAssertEqual(refusedField([["model": "lineart", "image": picture], ["model": "xl", "image": picture]]),
                       "adapters[1].model", "an SDXL adapter on an SD1 model")
        XCTAssertEqual(refusedField([["model": "lineart", "image": ["base64": "bm90IGFuIGltYWdl"]]]), "adapters[0].image.base64")
        XCTAssertEqual(refusedField([["model": "lineart", "image": picture]], model: false), "adapters")
    }
}
