import XCTest
@testable import Imaging

final class ColorMatchTests: XCTestCase {
    func flat(_ rgb: [UInt8], _ w: Int, _ h: Int) throws -> VipsImage {
        try VipsImage(bytes: (0 ..< w * h).flatMap { _ in rgb }, width: w, height: h, bands: 3)
    }

    func testMeanColourMovesToTheSurroundings() throws {
        let w = 16, h = 8
        let original = try flat([180, 90, 40], w, h)
        // Repainted with a cold colour and a slight gradient.
        var bytes: [UInt8] = []
        for _ in 0 ..< h { for x in 0 ..< w { bytes += [60, 120, UInt8(200 + x)] } }
        let repainted = try VipsImage(bytes: bytes, width: w, height: h, bands: 3)
        var m = [Float](repeating: 0, count: w * h)
        for y in 2 ..< 6 { for x in 4 ..< 12 { m[y * w + x] = 1 } }
        let mask = try Mask(values: m, width: w, height: h)
        let matched = try repainted.colorMatched(to: original, mask: mask)
        XCTAssertEqual(matched.format, .uchar)
        let out = try matched.bytes()
        // The surroundings are flat, so the target spread is 0 and the region becomes that colour.
        for y in 2 ..< 6 {
            for x in 4 ..< 12 {
                let p = (y * w + x) * 3
                // Tolerance 2/255: two CIELAB conversions in float and one 8-bit rounding.
                XCTAssertLessThanOrEqual(abs(Int(out[p]) - 180), 2)
                XCTAssertLessThanOrEqual(abs(Int(out[p + 1]) - 90), 2)
                XCTAssertLessThanOrEqual(abs(Int(out[p + 2]) - 40), 2)
            }
        }
        // Strength 0 changes nothing beyond the colour-space round trip.
        let same = try repainted.colorMatched(to: original, mask: mask, strength: 0).bytes()
        for (a, b) in zip(same, bytes) { XCTAssertLessThanOrEqual(abs(Int(a) - Int(b)), 1) }
        XCTAssertThrowsError(try repainted.colorMatched(to: original, mask: mask, strength: 2))
    }

    func testSixteenBitAndAlphaAreKept() throws {
        var samples: [UInt16] = []
        for i in 0 ..< 64 { samples += [30000, 20000, 10000, UInt16(i * 1000)] }
        let image = try VipsImage(shorts: samples, width: 8, height: 8, bands: 4)
        let mask = try Mask(values: (0 ..< 64).map { $0 % 8 < 4 ? 1 : 0 }, width: 8, height: 8)
        let out = try image.colorMatched(to: image, mask: mask)
        XCTAssertEqual(out.format, .ushort)
        XCTAssertEqual(out.bands, 4)
        let px = try out.shorts()
        for i in 0 ..< 64 {
            XCTAssertEqual(px[i * 4 + 3], UInt16(i * 1000), "alpha untouched")
            // Same image on both sides: the colour stays (tolerance 20/65535 for the CIELAB round trip).
            XCTAssertLessThanOrEqual(abs(Int(px[i * 4]) - 30000), 20)
        }
    }
}
