import XCTest
@testable import Imaging

final class MaskedFillTests: XCTestCase {
    func hole(_ w: Int, _ h: Int, _ rect: PixelRect, value: Float = 1) throws -> Mask {
        var v = [Float](repeating: 0, count: w * h)
        for y in rect.y ..< rect.maxY { for x in rect.x ..< rect.maxX { v[y * w + x] = value } }
        return try Mask(values: v, width: w, height: h)
    }

    func testConstantSurroundFillsWithThatColour() throws {
        let w = 33, h = 21
        let flat = try VipsImage(bytes: [UInt8](repeating: 0, count: w * h * 3).enumerated().map { [200, 40, 90][$0.offset % 3] },
                                 width: w, height: h, bands: 3)
        // Scribble over the hole so the fill must replace it.
        let damaged = try flat.inserting(try Pictures.rgb8(width: 9, height: 7), x: 12, y: 7)
        let mask = try hole(w, h, PixelRect(x: 12, y: 7, width: 9, height: 7))
        for method in [MaskedFill.edge, .blur] {
            let out = try damaged.filled(through: mask, method: method).bytes()
            for p in 0 ..< w * h {
                // Tolerance 1/255: float blending of a constant rounds back to it (at most one level off).
                XCTAssertLessThanOrEqual(abs(Int(out[p * 3]) - 200), 1, "\(method) pixel \(p)")
                XCTAssertLessThanOrEqual(abs(Int(out[p * 3 + 1]) - 40), 1)
                XCTAssertLessThanOrEqual(abs(Int(out[p * 3 + 2]) - 90), 1)
            }
        }
    }

    func testKeptPixelsAreBitIdenticalAndHoleBlendsItsBorders() throws {
        let w = 40, h = 10
        // Left half dark (20), right half bright (220), one grey band, 16-bit with alpha.
        var samples: [UInt16] = []
        for _ in 0 ..< h { for x in 0 ..< w { let v: UInt16 = x < 20 ? 20 * 257 : 220 * 257; samples += [v, 1234, UInt16(x * 1000)] } }
        let image = try VipsImage(shorts: samples, width: w, height: h, bands: 3)
            .settingText("parameters", "keep me")
        let mask = try hole(w, h, PixelRect(x: 10, y: 0, width: 20, height: 10)).feathered(x: 1, y: 0)
        let m = try mask.values()
        for method in [MaskedFill.edge, .blur] {
            let filled = try image.filled(through: mask, method: method)
            XCTAssertEqual(filled.format, .ushort)
            XCTAssertEqual(filled.textEntries["parameters"], "keep me")
            let out = try filled.shorts()
            for p in 0 ..< w * h where m[p] == 0 {
                XCTAssertEqual(Array(out[p * 3 ..< p * 3 + 3]), Array(samples[p * 3 ..< p * 3 + 3]), "\(method) \(p)")
            }
            // Inside the hole the fill lies between the two sides and rises from left to right.
            let row = (0 ..< w).map { Int(out[(5 * w + $0) * 3]) }
            XCTAssertTrue(row[12 ... 27].allSatisfy { $0 >= 20 * 257 - 257 && $0 <= 220 * 257 + 257 }, "\(method): \(row)")
            XCTAssertLessThan(row[13], row[26], "\(method)")
        }
    }

    func testEverythingMaskedGivesMidGreyAndAlphaIsKept() throws {
        var rgba: [UInt8] = []
        for i in 0 ..< 16 { rgba += [UInt8(i * 9), 3, 250, UInt8(i * 16)] }
        let image = try VipsImage(bytes: rgba, width: 4, height: 4, bands: 4)
        let all = try Mask.filled(1, size: image.size)
        for method in [MaskedFill.edge, .blur] {
            let out = try image.filled(through: all, method: method).bytes()
            for p in 0 ..< 16 {
                XCTAssertEqual(Array(out[p * 4 ..< p * 4 + 3]), [128, 128, 128], "\(method)")  // 127.5 half-to-even
                XCTAssertEqual(out[p * 4 + 3], rgba[p * 4 + 3], "alpha kept")
            }
        }
        let none = try Mask.filled(0, size: image.size)
        XCTAssertEqual(try image.filled(through: none, method: .edge).bytes(), rgba)
    }
}
