import DiffusionProtocol
import Foundation
import Imaging
import InpaintPlugin
import OutpaintPlugin
import PluginAPI
import StrictJSON
import XCTest

/// The plugins with the tiny random models of Tests/Fixtures/sd (9-channel sd1-inpaint, 4-channel sd1): the promise
/// that matters to users — pixels beyond the mask's reach are bit-identical, sizes exact — on every pixel kind.
final class ModelPluginTests: XCTestCase {
    static let sd = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sd")

    static func run(_ plugin: any OperationPlugin, family: String, _ params: [String: JSONValue]) throws -> (VipsImage, JSONValue) {
        var all = params
        all["model"] = "diffusers"
        all["prompt"] = "a stone bridge"
        all["steps"] = 3
        all["seed"] = 5
        try SchemaValidator.validate(.object(all), against: plugin.paramsSchema)
        let context = JobContext(requestID: .integer(1), method: plugin.method, pathPolicy: PathPolicy(),
                                 modelsDirectory: Self.sd.appendingPathComponent(family).path,
                                 cancellation: CancellationToken(), progressSink: { _ in })
        let result = try plugin.run(params: all, context: context)
        guard case .string(let text)? = result["image"]?["base64"], let data = Data(base64Encoded: text) else {
            throw PluginError.failed("no inline image in \(result)")
        }
        return (try VipsImage.load(data: [UInt8](data)), result)
    }

    func testInpaintWithModelsKeepsPixelsBeyondTheMaskForEveryKind() throws {
        let (w, h) = (30, 22)
        let hole = PixelRect(x: 11, y: 6, width: 6, height: 5)
        let mask = try TestImages.rectMask(width: w, height: h, rect: hole)
        let options = MaskOptions(grow: 1, featherX: 1, featherY: 1)
        let reach = options.reach
        let modes: [(family: String, area: String, blend: String, fill: String)] = [
            ("sd1-inpaint", "whole", "hard", "original"), ("sd1-inpaint", "masked", "soft", "edge"),
            ("sd1", "whole", "hard", "blur"), ("sd1", "masked", "soft", "patchmatch"),
        ]
        for kind in PixelKind.allCases {
            let image = try TestImages.make(kind, width: w, height: h, seed: 8)
            for mode in modes {
                let (out, result) = try Self.run(InpaintPlugin(), family: mode.family, [
                    "image": try TestImages.png(image), "mask": try TestImages.png(mask), "grow": 1, "feather": 1,
                    "area": .string(mode.area), "padding": 4, "blend": .string(mode.blend), "fill": .string(mode.fill),
                ])
                let label = "\(mode), \(kind)"
                XCTAssertEqual(out.size, image.size, label)
                XCTAssertEqual(out.bands, image.bands, label)
                XCTAssertEqual(out.bitDepth, image.bitDepth, label)
                XCTAssertEqual(result["seeds"]?.arrayValue?.first?.intValue, 5, label)
                let a = try TestImages.samples(out), o = try TestImages.samples(image)
                var outside = 0, inside = 0
                for y in 0 ..< h { for x in 0 ..< w {
                    let near = x >= hole.x - reach.x && x < hole.maxX + reach.x && y >= hole.y - reach.y && y < hole.maxY + reach.y
                    for c in 0 ..< image.bands where a[(y * w + x) * image.bands + c] != o[(y * w + x) * image.bands + c] {
                        if near { inside += 1 } else { outside += 1 }
                    }
                } }
                XCTAssertEqual(outside, 0, "bit-identical beyond the feather: \(label)")
                XCTAssertGreaterThan(inside, 0, "repainted: \(label)")
            }
        }
    }

    /// Outpaint with a model: exact odd output size, original bit-identical beyond the seam feather; the second
    /// case is larger than the window (64 px) and runs in windows along the border.
    func testOutpaintWithModelExactSizeAndOriginalKept() throws {
        let cases: [(w: Int, h: Int, l: Int, t: Int, r: Int, b: Int, window: Int)] = [
            (13, 11, 3, 0, 0, 5, 512), (70, 30, 0, 7, 41, 0, 64),
        ]
        for kind in PixelKind.allCases {
            for c in cases {
                let image = try TestImages.make(kind, width: c.w, height: c.h, seed: 4)
                let feather = 2
                let (out, _) = try Self.run(OutpaintPlugin(), family: "sd1-inpaint", [
                    "image": try TestImages.png(image), "fill": "edge", "feather": JSONValue(feather), "window": JSONValue(c.window),
                    "extend": ["left": JSONValue(c.l), "top": JSONValue(c.t), "right": JSONValue(c.r), "bottom": JSONValue(c.b)],
                ])
                let label = "\(c), \(kind)"
                XCTAssertEqual(out.size, ImageSize(width: c.w + c.l + c.r, height: c.h + c.t + c.b), label)
                // Beyond the feather band on the extended sides, the original is untouched.
                let inner = PixelRect(x: c.l + (c.l > 0 ? feather : 0), y: c.t + (c.t > 0 ? feather : 0),
                                      width: c.w - (c.l > 0 ? feather : 0) - (c.r > 0 ? feather : 0),
                                      height: c.h - (c.t > 0 ? feather : 0) - (c.b > 0 ? feather : 0))
                try assertIdentical(out, image, in: inner, offset: (c.l, c.t), label)
            }
        }
    }
}

final class LatentFillPluginTests: XCTestCase {
    /// latent_nothing / latent_noise change the result at strength < 1 and keep pixels beyond the mask exact;
    /// at strength 1 they would do nothing, which is refused.
    func testLatentFillsChangeTheResultAndAreRefusedAtFullStrength() throws {
        let image = try TestImages.make(.rgb8, width: 24, height: 24, seed: 2)
        let hole = PixelRect(x: 8, y: 8, width: 8, height: 8)
        let mask = try TestImages.png(try TestImages.rectMask(width: 24, height: 24, rect: hole))
        var outputs: [String: [UInt8]] = [:]
        for fill in ["original", "latent_nothing", "latent_noise"] {
            let (out, _) = try ModelPluginTests.run(InpaintPlugin(), family: "sd1", [
                "image": try TestImages.png(image), "mask": mask, "fill": .string(fill), "strength": .double(0.6)])
            outputs[fill] = try out.bytes()
            var outside = PixelRect(x: 0, y: 0, width: 24, height: 8)
            try assertIdentical(out, image, in: outside, "\(fill): rows above the hole")
            outside = PixelRect(x: 0, y: 16, width: 24, height: 8)
            try assertIdentical(out, image, in: outside, "\(fill): rows below the hole")
        }
        XCTAssertNotEqual(outputs["original"], outputs["latent_nothing"])
        XCTAssertNotEqual(outputs["latent_nothing"], outputs["latent_noise"])
        XCTAssertThrowsError(try ModelPluginTests.run(InpaintPlugin(), family: "sd1", [
            "image": try TestImages.png(image), "mask": mask, "fill": "latent_noise"])) { error in
            guard case .invalidParam(let field, _)? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "fill")
        }
    }
}
