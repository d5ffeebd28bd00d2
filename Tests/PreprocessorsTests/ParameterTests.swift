import Imaging
import Preprocessors
import StrictJSON
import XCTest

/// Names, parameter decoding and the errors a request gets for bad values, each naming its member.
final class ParameterTests: XCTestCase {
    func error(_ body: () throws -> Void) -> PreprocessorError? {
        do { try body() } catch let e as PreprocessorError { return e } catch { XCTFail("\(error)") }
        return nil
    }

    func testNamesAndUnknownName() throws {
        XCTAssertEqual(ControlPreprocessor.names,
                       ["canny", "scribble_xdog", "threshold", "invert", "lineart_standard", "color", "tile_resample"])
        XCTAssertEqual(try ControlPreprocessor.named("lineart_standard"), .lineartStandard)
        let e = error { _ = try ControlPreprocessor.named("depth", field: "control[1].preprocess") }
        XCTAssertEqual(e?.field, "control[1].preprocess")
        XCTAssertTrue(e?.reason.contains("unknown preprocessor \"depth\"; use one of canny,") ?? false, "\(String(describing: e))")
    }

    func testDefaultsAndDecoding() throws {
        let canny = try PreprocessorParameters(decoding: ["low": 50, "resolution": 256], for: .canny)
        XCTAssertEqual(canny, PreprocessorParameters(resolution: 256, low: 50, high: 200))
        let xdog = try PreprocessorParameters(decoding: [:], for: .scribbleXDoG)
        XCTAssertEqual(xdog.resolution, 512)
        XCTAssertNil(xdog.threshold, "the threshold default depends on the preprocessor")
        let tile = try PreprocessorParameters(decoding: ["down_sampling_rate": 2.5], for: .tileResample)
        XCTAssertEqual(tile.downSamplingRate, 2.5)
    }

    func testBadValuesNameTheirMember() {
        let cases: [(ControlPreprocessor, [String: JSONValue], String, String)] = [
            (.canny, ["low": 0], "control[0].low", "must be from 1 to 255 for canny, got 0"),
            (.canny, ["low": 150, "high": 100], "control[0].low", "must not be above high (150 > 100)"),
            (.canny, ["high": 1.5], "control[0].high", "must be an integer, got number"),
            (.canny, ["threshold": 10], "control[0].threshold", "is not a parameter of canny (it takes resolution, low, high)"),
            (.scribbleXDoG, ["threshold": 65], "control[0].threshold", "must be from 1 to 64 for scribble_xdog, got 65"),
            (.threshold, ["threshold": -1], "control[0].threshold", "must be from 0 to 255 for threshold, got -1"),
            (.invert, ["resolution": 32], "control[0].resolution", "must be from 64 to 2048 for invert, got 32"),
            (.color, ["resolution": "big"], "control[0].resolution", "must be an integer, got string"),
            (.tileResample, ["down_sampling_rate": 9], "control[0].down_sampling_rate", "must be from 1 to 8, got 9.0"),
            (.lineartStandard, ["low": 3], "control[0].low", "is not a parameter of lineart_standard (it takes resolution)"),
        ]
        for (preprocessor, members, field, reason) in cases {
            let e = error { _ = try PreprocessorParameters(decoding: members, for: preprocessor, fieldPrefix: "control[0].") }
            XCTAssertEqual(e, .invalidParameter(field: field, reason: reason), "\(preprocessor) \(members)")
        }
    }

    /// How a control entry is read: "none" (or no member) means no preprocessing and refuses parameters.
    func testControlEntryDecoding() throws {
        XCTAssertNil(try ControlPreprocessing.decode(from: ["model": "canny-net", "weight": 0.5]))
        XCTAssertNil(try ControlPreprocessing.decode(from: ["preprocess": "none"]))
        let entry: [String: JSONValue] = ["model": "canny-net", "preprocess": "canny", "high": 150]
        XCTAssertEqual(try ControlPreprocessing.decode(from: entry, fieldPrefix: "control[2]."),
                       ControlPreprocessing(preprocessor: .canny,
                                            parameters: PreprocessorParameters(high: 150, fieldPrefix: "control[2].")))
        XCTAssertEqual(error { _ = try ControlPreprocessing.decode(from: ["preprocess": "none", "low": 5], fieldPrefix: "control[0].") },
                       .invalidParameter(field: "control[0].low", reason: "has no effect without a preprocessor (preprocess is \"none\")"))
        XCTAssertEqual(error { _ = try ControlPreprocessing.decode(from: ["preprocess": "hed"], fieldPrefix: "control[1].") }?.field,
                       "control[1].preprocess")
    }

    /// The working size callers check against their limits: the padded image, or color's shortest-edge image.
    func testWorkingSize() {
        let p = PreprocessorParameters(resolution: 100)
        // 96x72 at 100: round(133.33) x 100, padded to 192 x 128.
        XCTAssertEqual(ControlPreprocessor.canny.workingSize(width: 96, height: 72, parameters: p), ImageSize(width: 192, height: 128))
        XCTAssertEqual(ControlPreprocessor.color.workingSize(width: 96, height: 72, parameters: p), ImageSize(width: 133, height: 100))
        XCTAssertEqual(ControlPreprocessor.invert.workingSize(width: 96, height: 72, parameters: p), ImageSize(width: 96, height: 72))
    }

    func testTileResampleBelowOnePixelIsRefused() throws {
        let tiny = try ByteImage(width: 4, height: 4, channels: 3, pixels: [UInt8](repeating: 9, count: 48))
        let e = error { _ = try ControlPreprocessor.tileResample.apply(to: tiny, parameters: PreprocessorParameters(downSamplingRate: 8)) }
        XCTAssertEqual(e?.field, "down_sampling_rate")
    }

    func testUnsupportedImagesAreRefused() throws {
        let floats = try VipsImage(floats: [Float](repeating: 0.5, count: 12), width: 2, height: 2, bands: 3)
        let e = error { _ = try ByteImage(hwc3: floats) }
        XCTAssertEqual(e, .unsupportedImage(detail: "has 32-bit samples; preprocessors take 8- or 16-bit images"))
    }

    /// HWC3: alpha composited over white with float32 and truncation, grey repeated, 16-bit rounded to 8.
    func testHWC3Conversion() throws {
        let rgba = try VipsImage(bytes: [200, 100, 0, 128, 10, 20, 30, 0], width: 2, height: 1, bands: 4)
        // numpy's HWC3 on these pixels: 227.39, 177.20 and 126.999992 (float32) truncate to 227, 177, 126;
        // a transparent pixel is white.
        XCTAssertEqual(try ByteImage(hwc3: rgba).pixels, [227, 177, 126, 255, 255, 255])
        let grey16 = try VipsImage(shorts: [0, 257, 65535, 32896], width: 2, height: 2, bands: 1)
        XCTAssertEqual(try ByteImage(hwc3: grey16).pixels, [0, 0, 0, 1, 1, 1, 255, 255, 255, 128, 128, 128])
    }
}
