import Foundation
import XCTest
@testable import Imaging

/// Fixtures made with diffusers 0.42 / Pillow by scripts/fixtures/make_imaging_fixtures.py.
final class DiffusersParityTests: XCTestCase {
    func floats(_ name: String) throws -> [Float] {
        let bytes = try Fixtures.bytes(name)
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }

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
