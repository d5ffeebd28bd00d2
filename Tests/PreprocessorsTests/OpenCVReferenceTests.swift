import Foundation
import Imaging
@testable import Preprocessors
import XCTest

/// Every case of Tests/Fixtures/preprocess/cases.json (scripts/fixtures/make_preprocess_fixtures.py: OpenCV 5.1
/// and numpy following sd-webui-controlnet's definitions) against our output at the input's size.
///
/// The references are OpenCV's own code paths (IPP off), and every preprocessor matches them exactly: the
/// resizes (INTER_AREA, INTER_CUBIC, INTER_NEAREST) and canny are integer or fixed-point algorithms we
/// reproduce step by step, and the float32 Gaussian blurs of scribble_xdog and lineart_standard equal OpenCV's
/// bit for bit (GaussianBlurTests), so every later float step sees the same values.
///
/// canny is also compared with what an Intel-IPP build of OpenCV (the x86 opencv-python wheels) produces, for
/// the cases that resize with INTER_CUBIC: IPP's cubic resize rounds one level differently from OpenCV's own
/// code at a few percent of samples, and where such a ±1 difference moves a Sobel magnitude across `low`/`high`
/// or flips a non-maximum-suppression comparison, an edge pixel appears, disappears or shifts by one. The issue
/// asks for at least 99.5% equal pixels there; the test requires that and reports the count (7 of 6912 and 6 of
/// 6144). It then runs our canny on the very image IPP's resize produced (`ipp_working`) and requires the IPP
/// output exactly: so every one of those pixels is a resize rounding, none a difference in canny.
final class OpenCVReferenceTests: XCTestCase {
    struct Case: Decodable {
        var name: String
        var input: String
        var preprocess: String
        var parameters: [String: Double]
        var expected: String
        var ipp: String?
        var ippWorking: String?

        enum CodingKeys: String, CodingKey {
            case name, input, preprocess, parameters, expected, ipp
            case ippWorking = "ipp_working"
        }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/preprocess")

    func load(_ name: String) throws -> VipsImage {
        try VipsImage.load(data: [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent(name))))
    }

    func cases() throws -> [Case] {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent("cases.json"))
        return try JSONDecoder().decode([Case].self, from: data)
    }

    func parameters(_ p: [String: Double]) -> PreprocessorParameters {
        PreprocessorParameters(resolution: p["resolution"].map { Int($0) } ?? 512, low: p["low"].map { Int($0) } ?? 100,
                               high: p["high"].map { Int($0) } ?? 200, threshold: p["threshold"].map { Int($0) },
                               downSamplingRate: p["down_sampling_rate"] ?? 1)
    }

    /// Pixels (all three samples) that differ, and the largest sample difference.
    func compare(_ a: ByteImage, _ b: ByteImage) -> (pixels: Int, maxDiff: Int) {
        var pixels = 0, maxDiff = 0
        for i in 0 ..< a.width * a.height {
            var differs = false
            for c in 0 ..< 3 {
                let d = abs(Int(a.pixels[3 * i + c]) - Int(b.pixels[3 * i + c]))
                if d > 0 { differs = true }
                maxDiff = max(maxDiff, d)
            }
            if differs { pixels += 1 }
        }
        return (pixels, maxDiff)
    }

    func testEveryCaseMatchesOpenCV() throws {
        let all = try cases()
        XCTAssertEqual(all.count, 26, "cases.json should hold every case of the fixture script")
        XCTAssertEqual(Set(all.map(\.preprocess)), Set(ControlPreprocessor.names), "every preprocessor is covered")
        for c in all {
            let input = try load(c.input)
            let preprocessor = try ControlPreprocessor.named(c.preprocess)
            let output = try preprocessor.apply(to: input, parameters: parameters(c.parameters))
            XCTAssertEqual(output.width, input.width, c.name)
            XCTAssertEqual(output.height, input.height, c.name)
            XCTAssertEqual(output.bands, 3, c.name)
            let ours = try ByteImage(hwc3: output)
            let expected = try ByteImage(hwc3: try load(c.expected))
            let (pixels, maxDiff) = compare(ours, expected)
            XCTAssertEqual(pixels, 0, "\(c.name): \(pixels) pixels differ from OpenCV, by up to \(maxDiff)")

            if let ipp = c.ipp {
                let withIPP = try ByteImage(hwc3: try load(ipp))
                let (differing, _) = compare(ours, withIPP)
                let equal = 1 - Double(differing) / Double(ours.width * ours.height)
                XCTAssertGreaterThanOrEqual(equal, 0.995, "\(c.name): \(differing) pixels differ from the IPP build")
                print("\(c.name): \(differing) of \(ours.width * ours.height) pixels differ from an IPP build of OpenCV")

                let ippWorking = try ByteImage(hwc3: try load(try XCTUnwrap(c.ippWorking, c.name)))
                let p = parameters(c.parameters)
                let padded = ippWorking.edgePadded(width: WorkingImage.multipleOf64(ippWorking.width),
                                                   height: WorkingImage.multipleOf64(ippWorking.height))
                let map = Canny(low: p.low, high: p.high).apply(to: padded).cropped(width: ippWorking.width, height: ippWorking.height)
                let fromIPPResize = try preprocessor.resizedBack(map.rgb, width: input.width, height: input.height)
                XCTAssertEqual(compare(fromIPPResize, withIPP).pixels, 0, "\(c.name): canny on IPP's resized image")
            }
        }
    }
}
