import XCTest
@testable import Imaging

final class PasteTests: XCTestCase {
    let w = 40, h = 30

    /// Repaint a block in the middle, feathered: the mask is 0 beyond the feather reach.
    func featheredBlock() throws -> Mask {
        var v = [Float](repeating: 0, count: w * h)
        for y in 8 ..< 22 { for x in 10 ..< 30 { v[y * w + x] = 1 } }
        return try Mask(values: v, width: w, height: h).feathered(x: 1.5, y: 1)
    }

    func originals() throws -> [VipsImage] {
        let rgb8 = try Pictures.rgb8(width: w, height: h)
        let rgb16 = try Pictures.rgb16(width: w, height: h)
        var rgba: [UInt8] = []
        for (i, b) in try rgb8.bytes().enumerated() {
            rgba.append(b)
            if i % 3 == 2 { rgba.append(UInt8((i / 3 * 37) % 256)) }  // varied alpha, including 0 and 255
        }
        let rgba8 = try VipsImage(bytes: rgba, width: w, height: h, bands: 4)
        var rgba16: [UInt16] = []
        for (i, s) in try rgb16.shorts().enumerated() {
            rgba16.append(s)
            if i % 3 == 2 { rgba16.append(UInt16((i / 3 * 9973) % 65536)) }
        }
        let rgba16Image = try VipsImage(shorts: rgba16, width: w, height: h, bands: 4)
        let profile = try Fixtures.bytes("srgb.icc")
        return try [rgb8, rgba8, rgb16, rgba16Image].map { try $0.settingICCProfile(profile).settingText("parameters", "p") }
    }

    func testOutsideMaskIsBitIdenticalAtEveryDepth() throws {
        let mask = try featheredBlock()
        let m = try mask.values()
        XCTAssertTrue(m.contains { $0 > 0 && $0 < 1 }, "the feather must produce partial values")
        // The repainted image: a flat colour from the model path (8-bit RGB, as VipsImage(planarRGB:) gives).
        let repainted = try VipsImage(bytes: [UInt8](repeating: 200, count: w * h * 3), width: w, height: h, bands: 3)
        for original in try originals() {
            for alpha in [PasteAlpha.blend, .keepOriginal] {
                let out = try original.pasting(repainted, through: mask, alpha: alpha)
                XCTAssertEqual(out.bands, original.bands)
                XCTAssertEqual(out.format, original.format)
                XCTAssertEqual(out.interpretation, original.interpretation)
                XCTAssertEqual(out.iccProfile, original.iccProfile)
                XCTAssertEqual(out.textEntries, ["parameters": "p"])
                let n = original.bands
                if original.format == .uchar {
                    let a = try original.bytes(), b = try out.bytes()
                    for p in 0 ..< w * h where m[p] == 0 {
                        XCTAssertEqual(Array(b[p * n ..< (p + 1) * n]), Array(a[p * n ..< (p + 1) * n]), "pixel \(p)")
                    }
                    let centre = (15 * w + 20) * n  // well inside: m == 1
                    XCTAssertEqual(m[15 * w + 20], 1)
                    XCTAssertEqual(Array(b[centre ..< centre + 3]), [200, 200, 200])
                    if n == 4 {
                        XCTAssertEqual(b[centre + 3], alpha == .blend ? 255 : a[centre + 3])
                    }
                } else {
                    let a = try original.shorts(), b = try out.shorts()
                    for p in 0 ..< w * h where m[p] == 0 {
                        XCTAssertEqual(Array(b[p * n ..< (p + 1) * n]), Array(a[p * n ..< (p + 1) * n]), "pixel \(p)")
                    }
                    let centre = (15 * w + 20) * n
                    let expected: [UInt16] = [51400, 51400, 51400]  // 200 * 257
                    XCTAssertEqual(Array(b[centre ..< centre + 3]), expected)
                }
            }
        }
    }

    func testPartialMaskBlendsLinearly() throws {
        let original = try VipsImage(bytes: [0, 100, 200, 0, 100, 200], width: 2, height: 1, bands: 3)
        let repainted = try VipsImage(bytes: [200, 200, 200, 200, 200, 200], width: 2, height: 1, bands: 3)
        let mask = try Mask(values: [0.25, 0.5], width: 2, height: 1)
        // 0 + 200*0.25 = 50; 100 + 100*0.25 = 125; 200. Then 100, 150, 200.
        XCTAssertEqual(try original.pasting(repainted, through: mask).bytes(), [50, 125, 200, 100, 150, 200])
    }

    func testBlendingIntoTransparencyLeavesNoDarkFringe() throws {
        // A fully transparent (black) original half-repainted with white: the visible colour is white, not grey.
        let original = try VipsImage(bytes: [0, 0, 0, 0], width: 1, height: 1, bands: 4)
        let repainted = try VipsImage(bytes: [255, 255, 255], width: 1, height: 1, bands: 3)
        let out = try original.pasting(repainted, through: try Mask(values: [0.5], width: 1, height: 1)).bytes()
        XCTAssertEqual(out[0], 255)
        XCTAssertEqual(out[3], 128)  // 255 * 0.5 = 127.5, rounded half to even
    }

    func testRegionPasteTouchesOnlyTheRegion() throws {
        let original = try Pictures.rgb16(width: 20, height: 12)
        let region = try VipsImage(bytes: [UInt8](repeating: 255, count: 6 * 4 * 3), width: 6, height: 4, bands: 3)
        let rect = PixelRect(x: 9, y: 5, width: 6, height: 4)
        let everywhere = try Mask.filled(1, size: original.size)  // even a full mask only acts inside rect
        let out = try original.pasting(region, at: rect, through: everywhere)
        XCTAssertEqual(out.format, .ushort)
        let a = try original.shorts(), b = try out.shorts()
        for y in 0 ..< 12 {
            for x in 0 ..< 20 {
                let p = (y * 20 + x) * 3
                if rect.contains(PixelRect(x: x, y: y, width: 1, height: 1)) {
                    XCTAssertEqual(Array(b[p ..< p + 3]), [65535, 65535, 65535])
                } else {
                    XCTAssertEqual(Array(b[p ..< p + 3]), Array(a[p ..< p + 3]), "(\(x), \(y))")
                }
            }
        }
        assertImagingError(try original.pasting(region, at: PixelRect(x: 16, y: 0, width: 6, height: 4), through: everywhere)) {
            if case .invalidArgument = $0 { return true }
            return false
        }
    }

    func testSizeMismatches() throws {
        let original = try Pictures.rgb8(width: 4, height: 4)
        assertImagingError(try original.pasting(try Pictures.rgb8(width: 5, height: 4),
                                                through: try Mask.filled(1, size: original.size))) {
            if case .sizeMismatch("the repainted image", _, _) = $0 { return true }
            return false
        }
        assertImagingError(try original.pasting(original, through: try Mask.filled(1, size: ImageSize(width: 2, height: 2)))) {
            if case .sizeMismatch("the mask", _, _) = $0 { return true }
            return false
        }
    }
}
