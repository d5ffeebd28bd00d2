import DiffusionProtocol
import Foundation
import Imaging
import InpaintPlugin
import OutpaintPlugin
import PluginAPI
import StrictJSON
import XCTest

final class OutpaintPluginTests: XCTestCase {
    /// Every combination of 0/1/2/5 px on the four sides (255 non-empty ones) on an odd-sized image: the output is
    /// exactly (w + l + r) × (h + t + b) and the original sits bit-identical at (l, t).
    func testOutputSizeIsExactForEveryCombinationOfOddExtensions() throws {
        let image = try TestImages.make(.rgb8, width: 7, height: 5)
        let encoded = try TestImages.png(image)
        let amounts = [0, 1, 2, 5]
        for l in amounts { for t in amounts { for r in amounts { for b in amounts where l + t + r + b > 0 {
            let (out, _) = try PluginHarness.run(OutpaintPlugin(), [
                "image": encoded, "extend": ["left": JSONValue(l), "top": JSONValue(t), "right": JSONValue(r), "bottom": JSONValue(b)],
                "fill": "edge",
            ])
            XCTAssertEqual(out.width, 7 + l + r, "width for l\(l) t\(t) r\(r) b\(b)")
            XCTAssertEqual(out.height, 5 + t + b, "height for l\(l) t\(t) r\(r) b\(b)")
            try assertIdentical(out, image, in: PixelRect(x: l, y: t, width: 7, height: 5), offset: (l, t),
                                "original inside l\(l) t\(t) r\(r) b\(b)")
        } } } }
    }

    /// Every fill on every input kind: exact size, the original bit-identical, same depth, bands and alpha.
    func testEveryFillKeepsTheOriginalBitIdenticalForEveryPixelKind() throws {
        for kind in PixelKind.allCases {
            let image = try TestImages.make(kind, width: 13, height: 9)
            for fill in ["edge", "mirror", "blur", "noise", "patchmatch"] {
                let (out, result) = try PluginHarness.run(OutpaintPlugin(), [
                    "image": try TestImages.png(image), "extend": ["left": 3, "top": 0, "right": 6, "bottom": 5],
                    "fill": .string(fill), "seed": 7, "blur_sigma": 2,
                ])
                XCTAssertEqual(out.size, ImageSize(width: 22, height: 14), "\(fill) on \(kind)")
                XCTAssertEqual(out.bitDepth, image.bitDepth, "\(fill) on \(kind)")
                XCTAssertEqual(out.hasAlpha, image.hasAlpha, "\(fill) on \(kind)")
                try assertIdentical(out, image, in: PixelRect(x: 3, y: 0, width: 13, height: 9), offset: (3, 0),
                                    "\(fill) on \(kind)")
                XCTAssertEqual(result["original"]?["x"]?.intValue, 3)
            }
        }
    }

    /// Edge fill repeats the border pixel: a exact expectation for the new area.
    func testEdgeFillRepeatsTheBorder() throws {
        let image = try TestImages.make(.rgb8, width: 4, height: 3)
        let (out, _) = try PluginHarness.run(OutpaintPlugin(), ["image": try TestImages.png(image),
                                                                "extend": ["right": 2], "fill": "edge"])
        let o = try image.bytes(), a = try out.bytes()
        for y in 0 ..< 3 { for x in 4 ..< 6 { for c in 0 ..< 3 {
            XCTAssertEqual(a[(y * 6 + x) * 3 + c], o[(y * 4 + 3) * 3 + c], "edge pixel (\(x), \(y))")
        } } }
    }

    func testEmptyExtensionAndModelAreClearErrors() throws {
        let encoded = try TestImages.png(try TestImages.make(.rgb8, width: 4, height: 4))
        XCTAssertThrowsError(try PluginHarness.run(OutpaintPlugin(), ["image": encoded, "extend": [:]])) { error in
            XCTAssertEqual((error as? PluginError).map { if case .invalidParam(let f, _) = $0 { return f } else { return "" } }, "extend")
        }
        XCTAssertThrowsError(try PluginHarness.run(OutpaintPlugin(), ["image": encoded, "extend": ["left": 8], "model": "sd15"]))
    }

    /// The schema the daemon enforces rejects negative extensions and unknown fills before `run`.
    func testSchemaRejectsNegativeExtensionAndUnknownFill() throws {
        let schema = OutpaintPlugin().paramsSchema
        let encoded = try TestImages.png(try TestImages.make(.rgb8, width: 2, height: 2))
        XCTAssertNoThrow(try SchemaValidator.validate(["image": encoded, "extend": ["left": 1]], against: schema))
        XCTAssertThrowsError(try SchemaValidator.validate(["image": encoded, "extend": ["left": -1]], against: schema))
        XCTAssertThrowsError(try SchemaValidator.validate(["image": encoded, "extend": ["left": 1], "fill": "magic"], against: schema))
    }
}

/// The extended canvas obeys the job's image limits (`--max-image-pixels`), and a running PatchMatch fill stops
/// on cancel.
final class OutpaintLimitsTests: XCTestCase {
    func context(maxImagePixels: Int? = nil, token: CancellationToken = CancellationToken()) -> JobContext {
        JobContext(requestID: .integer(1), method: "outpaint", pathPolicy: PathPolicy(), modelsDirectory: nil,
                   cancellation: token, maxImagePixels: maxImagePixels, progressSink: { _ in })
    }

    func testCanvasOverMaxImagePixelsIsRefusedNamingExtend() throws {
        let encoded = try TestImages.png(try TestImages.make(.rgb8, width: 8, height: 6))
        for fill in ["edge", "blur", "patchmatch"] {
            let params: [String: JSONValue] = ["image": encoded, "extend": ["right": 100, "bottom": 50], "fill": .string(fill)]
            // 108 × 56 = 6048 pixels > 5000; the 8 × 6 input itself is within the limit.
            XCTAssertThrowsError(try OutpaintPlugin().run(params: params, context: context(maxImagePixels: 5000))) { error in
                guard case .invalidParam(let field, let reason)? = error as? PluginError else {
                    return XCTFail("expected invalidParam, got \(error)")
                }
                XCTAssertEqual(field, "extend", fill)
                XCTAssertTrue(reason.contains("108x56"), "names the canvas size: \(reason)")
                XCTAssertTrue(reason.contains("8x6"), "names the image size: \(reason)")
                XCTAssertTrue(reason.contains("5000"), "names the limit: \(reason)")
            }
        }
        // Within the limit the same request works.
        let (out, _) = try PluginHarness.run(OutpaintPlugin(), ["image": encoded, "extend": ["right": 100, "bottom": 50], "fill": "edge"])
        XCTAssertEqual(out.size, ImageSize(width: 108, height: 56))
    }

    func testCancelStopsARunningPatchMatchOutpaint() throws {
        let encoded = try TestImages.png(try TestImages.make(.rgb8, width: 48, height: 48))
        let token = CancellationToken()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { token.cancel(reason: "test cancel") }
        let start = Date()
        // A 448×448 canvas, mostly new area: the full PatchMatch fill takes far longer than the cancel delay.
        XCTAssertThrowsError(try OutpaintPlugin().run(params: ["image": encoded, "extend": ["right": 400, "bottom": 400]],
                                                      context: context(token: token))) { error in
            XCTAssertEqual(error as? PluginError, .cancelled(reason: "test cancel"))
        }
        // Cancel at 0.3 s; stopping "well under a second" later (the fill polls every few ms).
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.3)
    }
}
