import XCTest
@testable import Imaging

final class PlanarRGBTests: XCTestCase {
    func testNormalisationMatchesVaeImageProcessor() throws {
        // pixel (0,0) = (0, 255, 128), pixel (1,0) = (1, 2, 3)
        let image = try VipsImage(bytes: [0, 255, 128, 1, 2, 3], width: 2, height: 1, bands: 3)
        let planar = try image.planarRGB()
        // Planes: R R, G G, B B. Expected values computed the numpy way in float32: 2 * (v / 255) - 1.
        func expected(_ v: Float) -> Float { 2 * (v / 255) - 1 }
        XCTAssertEqual(planar.values, [expected(0), expected(1), expected(255), expected(2), expected(128), expected(3)])
        XCTAssertEqual(planar.values[0], -1)
        XCTAssertEqual(planar.values[2], 1)
    }

    func testEveryByteRoundTripsExactly() throws {
        let bytes = (0 ..< 256 * 3).map { UInt8(($0 * 7) % 256) }
        let image = try VipsImage(bytes: bytes, width: 256, height: 1, bands: 3)
        let back = try VipsImage(planarRGB: try image.planarRGB())
        XCTAssertEqual(try back.bytes(), bytes)
    }

    func testSixteenBitRoundTripsExactly() throws {
        let shorts = (0 ..< 300 * 3).map { UInt16(($0 * 7919) % 65536) }
        let image = try VipsImage(shorts: shorts, width: 300, height: 1, bands: 3)
        let back = try VipsImage(planarRGB: try image.planarRGB(), bitDepth: 16)
        XCTAssertEqual(back.bitDepth, 16)
        XCTAssertEqual(try back.shorts(), shorts)
    }

    func testDenormaliseClampsAndRoundsHalfToEven() throws {
        // x * 0.5 + 0.5 then * 255: -2 -> 0 (clamped), 2 -> 255 (clamped), 0 -> 127.5 -> 128,
        // and a value landing on 0.5 exactly: x = 2 * (0.5 / 255) - 1 is not exact in float32, so use
        // the sign-symmetric ties 127.5 only. 1/255*2-1 -> 1.
        let planar = try PlanarRGB(width: 2, height: 1, values: [-2, 2, 0, -1, 1, 2 * (1 / Float(255)) - 1])
        let image = try VipsImage(planarRGB: planar)
        XCTAssertEqual(try image.bytes(), [0, 128, 255, 255, 0, 1])
    }

    func testGreyAndAlphaBecomeRGB() throws {
        let grey = try VipsImage(bytes: [0, 255], width: 2, height: 1, bands: 1)
        XCTAssertEqual(try grey.planarRGB().values, [-1, 1, -1, 1, -1, 1])
        let rgba = try VipsImage(bytes: [255, 0, 0, 0, 0, 0, 255, 255], width: 2, height: 1, bands: 4)
        // Alpha is dropped, not composited: a fully transparent red pixel is still red.
        XCTAssertEqual(try rgba.planarRGB().values, [1, -1, -1, -1, -1, 1])
    }
}

import Tensor

final class TensorConversionTests: XCTestCase {
    func testImageTensorRoundTrip() throws {
        let image = try Pictures.rgb8(width: 5, height: 3)
        let t = try image.toTensor()
        XCTAssertEqual(t.shape, [1, 3, 3, 5])
        XCTAssertEqual(t.scalars, try image.planarRGB().values)
        // Planar: element [0, c, y, x] = 2 * v / 255 - 1 of band c at (x, y).
        let bytes = try image.bytes()
        let green: Float = Float(bytes[(2 * 5 + 4) * 3 + 1]) / 255
        let element: Float = t.scalars[1 * 15 + 2 * 5 + 4]
        XCTAssertEqual(element, 2 * green - 1)
        XCTAssertEqual(try VipsImage(tensor: t).bytes(), bytes)
        XCTAssertEqual(try VipsImage(tensor: t.reshaped([3, 3, 5])).bytes(), bytes)
        XCTAssertThrowsError(try VipsImage(tensor: Tensor(shape: [1, 4, 3, 5])))
        XCTAssertThrowsError(try VipsImage(tensor: Tensor(shape: [2, 3, 3, 5])))
    }

    func testMaskTensorRoundTrip() throws {
        let mask = try Mask(values: [0, 0.25, 1, 0.5, 0, 1], width: 3, height: 2)
        let t = try mask.toTensor()
        XCTAssertEqual(t.shape, [1, 1, 2, 3])
        XCTAssertEqual(try Mask(tensor: t).values(), [0, 0.25, 1, 0.5, 0, 1])
        XCTAssertThrowsError(try Mask(tensor: Tensor(shape: [1, 3, 2, 2])))
    }
}
