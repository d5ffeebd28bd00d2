import Foundation
import XCTest
@testable import Imaging

/// Fixtures made with diffusers 0.42 / Pillow by scripts/fixtures/make_imaging_fixtures.py.
final class DiffusersParityTests: XCTestCase {
    func floats(_ name: String) throws -> [Float] { try Fixtures.floats(name) }

    func testPreprocessIsBitIdentical() throws {
        let image = try VipsImage.load(data: try Fixtures.bytes("vae_input.png"))
        XCTAssertEqual(try image.planarRGB().values, try floats("vae_input.f32"))  // exact: same float32 ops
    }

    func testPostprocessIsBitIdentical() throws {
        let values = try floats("vae_output.f32")
        XCTAssertTrue(values.contains { abs($0) > 1 }, "the fixture exercises the clamp")
        let image = try VipsImage(planarRGB: try PlanarRGB(width: 16, height: 16, values: values))
        let expected = try VipsImage.load(data: try Fixtures.bytes("vae_output.png"))
        XCTAssertEqual(try image.bytes(), try expected.bytes())  // exact
    }

    func testMaskLuminanceAndBinarisationMatch() throws {
        let rgb = try VipsImage.load(data: try Fixtures.bytes("mask_rgb.png"))
        let luminance = try VipsImage.load(data: try Fixtures.bytes("mask_luminance.png"))
        XCTAssertEqual(luminance.bands, 1)
        let mask = try Mask(maskImage: rgb)
        // PIL's convert("L"), exactly, as 8-bit levels.
        XCTAssertEqual(try mask.picture().bytes(), try luminance.bytes())
        XCTAssertEqual(try mask.thresholded(at: 0.5).values(), try floats("mask_binarized.f32"))
    }
}

final class CropRegionTests: XCTestCase {
    struct Case: Decodable {
        let mask: [Int]
        let block: [Int]
        let processing: [Int]
        let pad: Int
        let region: [Int]
    }

    func testMatchesDiffusersGetCropRegion() throws {
        let cases = try JSONDecoder().decode([Case].self, from: Data(try Fixtures.bytes("crop_regions.json")))
        XCTAssertEqual(cases.count, 8)
        for c in cases {
            let (mw, mh) = (c.mask[0], c.mask[1])
            var v = [Float](repeating: 0, count: mw * mh)
            for y in c.block[1] ..< c.block[1] + c.block[3] { for x in c.block[0] ..< c.block[0] + c.block[2] { v[y * mw + x] = 1 } }
            let mask = try Mask(values: v, width: mw, height: mh)
            let region = try mask.cropRegion(processingWidth: c.processing[0], processingHeight: c.processing[1], padding: c.pad)
            let want = PixelRect(x: c.region[0], y: c.region[1], width: c.region[2] - c.region[0], height: c.region[3] - c.region[1])
            XCTAssertEqual(region, want, "\(c)")
        }
        XCTAssertNil(try Mask.filled(0, size: ImageSize(width: 4, height: 4)).cropRegion(processingWidth: 8, processingHeight: 8, padding: 2))
        // Values that round to 0 at 8 bits do not count (PIL's "L" sees 0 there).
        let faint = try Mask(values: [0.001, 0, 0, 1], width: 2, height: 2)
        XCTAssertEqual(try faint.cropRegion(processingWidth: 1, processingHeight: 1, padding: 0), PixelRect(x: 1, y: 1, width: 1, height: 1))
    }
}

/// A1111's mask blur, made with OpenCV by scripts/fixtures/make_imaging_fixtures.py.
final class FeatherParityTests: XCTestCase {
    let feathers: [(Double, Double)] = [(2, 0), (0, 3), (1.5, 4), (6, 1)]

    func floats(_ name: String) throws -> [Float] { try Fixtures.floats(name) }

    func testFeatherMatchesOpenCVGaussianBlur() throws {
        let input = try floats("feather_input.f32")
        let mask = try Mask(values: input, width: 24, height: 16)
        for (i, (x, y)) in feathers.enumerated() {
            let got = try mask.feathered(x: x, y: y).values()
            let want = try floats("feather_\(i).f32")
            // Tolerance 2e-6: both convolve in float32 with double-derived weights, in different orders.
            for (p, (a, b)) in zip(got, want).enumerated() {
                XCTAssertEqual(a, b, accuracy: 2e-6, "feather (\(x), \(y)) pixel \(p)")
            }
            // A1111 blurs the 8-bit mask: OpenCV rounds to 8 bits after each pass (and uses fixed-point weights),
            // our float mask is rounded once at the end. Bound: 0.5 level per extra rounding (two passes) plus
            // the fixed-point weight error, so at most 2 levels.
            let levels = try Fixtures.bytes("feather_\(i).u8")
            let eight = try Mask(values: input.map { ($0 * 255).rounded() / 255 }, width: 24, height: 16)
            let ours = try eight.feathered(x: x, y: y).picture().bytes()
            for (a, b) in zip(ours, levels) { XCTAssertLessThanOrEqual(abs(Int(a) - Int(b)), 2) }
        }
    }
}
