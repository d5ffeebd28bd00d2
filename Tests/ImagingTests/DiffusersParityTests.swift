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
