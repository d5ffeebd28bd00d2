import Engine
import Imaging
import XCTest

/// A1111's img2img resize modes on a two-colour image (left half red, right half blue).
final class ResizeModeTests: XCTestCase {
    /// w x h, left half (x < w/2) red, right half blue, planar RGB in [-1, 1].
    private func twoColour(width: Int, height: Int) throws -> VipsImage {
        var values = [Float](repeating: -1, count: 3 * width * height)
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                if x < width / 2 { values[i] = 1 } else { values[2 * width * height + i] = 1 }
            }
        }
        return try VipsImage(planarRGB: PlanarRGB(width: width, height: height, values: values))
    }

    private func pixel(_ p: PlanarRGB, _ x: Int, _ y: Int) -> [Float] {
        let plane = p.width * p.height
        return (0..<3).map { p.values[$0 * plane + y * p.width + x] }
    }

    func testNamesParse() {
        XCTAssertEqual(ResizeMode(name: "Crop and resize"), .cropAndResize)
        XCTAssertEqual(ResizeMode(name: "resize_and_fill"), .resizeAndFill)
        XCTAssertEqual(ResizeMode(name: "just resize"), .justResize)
        XCTAssertNil(ResizeMode(name: "stretch"))
    }

    func testJustResizeStretches() throws {
        let out = try ResizeMode.justResize.apply(try twoColour(width: 40, height: 10), width: 16, height: 16).planarRGB()
        XCTAssertEqual([out.width, out.height], [16, 16])
        XCTAssertEqual(pixel(out, 2, 8), [1, -1, -1])      // red stays on the left half
        XCTAssertEqual(pixel(out, 13, 8), [-1, -1, 1])
    }

    func testCropAndResizeKeepsAspectAndCropsCentre() throws {
        // 40x10 -> cover 16x16: scaled to 64x16, centre 16 columns = columns 24..<40 of 64: 8 red, 8 blue.
        let out = try ResizeMode.cropAndResize.apply(try twoColour(width: 40, height: 10), width: 16, height: 16).planarRGB()
        XCTAssertEqual([out.width, out.height], [16, 16])
        XCTAssertEqual(pixel(out, 0, 8), [1, -1, -1])
        XCTAssertEqual(pixel(out, 15, 8), [-1, -1, 1])
    }

    func testResizeAndFillCentresAndExtendsEdges() throws {
        // 40x10 -> fit 16x16: scaled to 16x4 at rows 6..<10; the bands above and below repeat the edge rows.
        let out = try ResizeMode.resizeAndFill.apply(try twoColour(width: 40, height: 10), width: 16, height: 16).planarRGB()
        XCTAssertEqual([out.width, out.height], [16, 16])
        for y in [0, 5, 8, 15] {
            XCTAssertEqual(pixel(out, 1, y), [1, -1, -1], "row \(y)")
            XCTAssertEqual(pixel(out, 14, y), [-1, -1, 1], "row \(y)")
        }
    }
}
