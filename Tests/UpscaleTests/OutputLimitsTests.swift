import DiffusionProtocol
import Imaging
import PluginAPI
import StrictJSON
import UpscalePlugin
import XCTest

/// Issue 16: streamed outputs are bounded by `--max-output-pixels` and their format, not by the decoded-image
/// limit; each refusal is -32003 up front, naming the limit in `data` and what changes it in the message.
final class OutputLimitsTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try UpscaleFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func context(maxOutputPixels: Int? = nil) -> JobContext {
        JobContext(requestID: .integer(1), method: "upscale", pathPolicy: PathPolicy(), modelsDirectory: UpscaleFixtures.models,
                   cancellation: CancellationToken(), maxOutputPixels: maxOutputPixels, progressSink: { _ in })
    }

    /// Runs a plain-kernel upscale of photo64.png that must be refused; returns the RPC error.
    func refusal(width: Int, output: String, maxOutputPixels: Int? = nil) throws -> RPCError {
        let params: [String: JSONValue] = ["image": ["path": .string(UpscaleFixtures.fixtures + "/photo64.png")],
                                           "model": "lanczos3", "width": JSONValue(width),
                                           "output": ["path": .string(dir + "/" + output)]]
        let started = Date()
        do {
            _ = try UpscalePlugin().run(params: params, context: context(maxOutputPixels: maxOutputPixels))
        } catch let e as PluginError {
            XCTAssertLessThan(Date().timeIntervalSince(started), 1, "refused up front, before any pixel work")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/" + output))
            return e.rpcError
        }
        XCTFail("\(width) px wide \(output) was not refused")
        throw CocoaError(.featureUnsupported)
    }

    func testJPEGAndWebPSideLimitsNameTheFormat() throws {
        let jpeg = try refusal(width: 70_000, output: "big.jpg")
        XCTAssertEqual(jpeg.code, RPCErrorCode.imageTooLarge)
        XCTAssertEqual(jpeg.data?["limit"], .string("jpeg_max_side"))
        XCTAssertEqual(jpeg.data?["maximum"], 65_535)
        XCTAssertEqual(jpeg.data?["field"], .string("width"))
        XCTAssertNil(jpeg.data?["flag"], "no flag raises a format's limit")
        XCTAssertTrue(jpeg.message.contains(".tif"), jpeg.message)
        XCTAssertFalse(jpeg.message.contains("send a smaller image"), jpeg.message)

        let webp = try refusal(width: 16_384, output: "big.webp")
        XCTAssertEqual(webp.data?["limit"], .string("webp_max_side"))
        XCTAssertEqual(webp.data?["maximum"], 16_383)
    }

    func testMaxOutputPixelsIsTheDaemonsLimitAndNamesItsFlag() throws {
        let error = try refusal(width: 200, output: "big.png", maxOutputPixels: 30_000)  // 200×200 = 40,000 px
        XCTAssertEqual(error.code, RPCErrorCode.imageTooLarge)
        XCTAssertEqual(error.data?["limit"], .string("max_output_pixels"))
        XCTAssertEqual(error.data?["maximum"], 30_000)
        XCTAssertEqual(error.data?["flag"], .string("--max-output-pixels"))
        XCTAssertEqual(error.data?["width"], 200)
        XCTAssertEqual(error.data?["height"], 200)
        XCTAssertTrue(error.message.contains("--max-output-pixels"), error.message)
    }

    func testA384MegapixelStreamedOutputFitsTheDefaultsButNotTheDecodedLimit() {
        // 6000×4000 ×4: over the decoded-image limit (what an in-memory image may be), within the streamed one.
        let limits = OutputLimits()
        for format in [ImageFormat.tiff, .png, .jpeg] {
            XCTAssertNil(limits.violation(width: 24_000, height: 16_000, format: format), "\(format)")
        }
        XCTAssertEqual(limits.violation(width: 24_000, height: 16_000, format: .webp)?.name, "webp_max_side")
        XCTAssertEqual(limits.violation(width: 80_000, height: 60_000, format: .tiff)?.name, "max_output_pixels")
        XCTAssertThrowsError(try ImageLimits.default.check(width: 24_000, height: 16_000, bands: 3, bytesPerSample: 1))
    }

    func testMaxImagePixelsRaisesAsWellAsLowers() throws {
        let raised = ImageBudget.limits(configured: 500_000_000)
        XCTAssertEqual(raised.maxPixels, 500_000_000)
        XCTAssertNoThrow(try raised.check(width: 24_000, height: 16_000, bands: 4, bytesPerSample: 2))
        XCTAssertEqual(ImageBudget.limits(configured: 100).maxPixels, 100)
        XCTAssertEqual(ImageBudget.limits(configured: nil), .default)
        XCTAssertEqual(ImageBudget.maxPixels(configured: 500_000_000), 500_000_000)
    }
}
