import Imaging
import XCTest

/// Sizes and radii that can arrive in requests: each is a typed error (or an exact clamp), never a trap.
final class HostileSizesTests: XCTestCase {
    func testOverflowingOrNegativeSizesThrow() throws {
        XCTAssertThrowsError(try Mask.filled(1, size: ImageSize(width: -1, height: 5)))
        XCTAssertThrowsError(try Mask.filled(1, size: ImageSize(width: 1 << 40, height: 1 << 40)))
        XCTAssertThrowsError(try VipsImage(floats: [0, 0], width: 1 << 62, height: 4, bands: 1))
        XCTAssertThrowsError(try PlanarRGB(width: 1 << 62, height: 4, values: [0, 0, 0]))
        XCTAssertThrowsError(try CanvasExtension(left: Int.max, right: Int.max))
        let ok = try CanvasExtension(left: CanvasExtension.maxSide, right: CanvasExtension.maxSide)
        XCTAssertEqual(ok.canvasSize(for: ImageSize(width: 10, height: 10)).width, 10 + 2 * CanvasExtension.maxSide)
    }

    func testHugeBlurSigmasThrow() throws {
        let m = try Mask.filled(1, size: ImageSize(width: 4, height: 3))
        for sigma in [1e300, .infinity, .nan, -1] {
            XCTAssertThrowsError(try m.feathered(x: sigma, y: 1), "\(sigma)")
        }
    }

    /// A grow larger than width + height gives exactly the mask of that radius (every pixel within reach),
    /// and Int.min does not trap in abs().
    func testHugeGrowsClampExactly() throws {
        var v = [Float](repeating: 0, count: 7 * 5)
        v[2 * 7 + 3] = 1
        v[0] = 0.5
        let m = try Mask(values: v, width: 7, height: 5)
        XCTAssertEqual(try m.grown(by: 1_000_000_000).values(), try m.grown(by: 12).values())
        XCTAssertEqual(try m.grown(by: 1_000_000_000).values(), [Float](repeating: 1, count: 35))
        XCTAssertEqual(try m.grown(by: Int.min).values(), try m.grown(by: -12).values())
        XCTAssertEqual(try m.grown(by: Int.min).values(), [Float](repeating: 0, count: 35))
    }
}
