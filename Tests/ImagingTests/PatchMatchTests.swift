import XCTest
@testable import Imaging

final class PatchMatchTests: XCTestCase {
    /// Vertical stripes with period 5 and five distinct colours.
    func stripes(_ w: Int, _ h: Int) throws -> (VipsImage, [UInt8]) {
        let palette: [[UInt8]] = [[250, 10, 10], [10, 250, 10], [10, 10, 250], [200, 200, 20], [20, 20, 20]]
        var bytes: [UInt8] = []
        for _ in 0 ..< h { for x in 0 ..< w { bytes += palette[x % 5] } }
        return (try VipsImage(bytes: bytes, width: w, height: h, bands: 3), bytes)
    }

    func testRepeatingTextureIsContinuedIntoTheHole() throws {
        let w = 40, h = 30
        let (image, truth) = try stripes(w, h)
        let damaged = try image.inserting(try VipsImage(bytes: [UInt8](repeating: 128, count: 9 * 7 * 3), width: 9, height: 7, bands: 3),
                                          x: 15, y: 11)
        var m = [Float](repeating: 0, count: w * h)
        for y in 11 ..< 18 { for x in 15 ..< 24 { m[y * w + x] = 1 } }
        let mask = try Mask(values: m, width: w, height: h)
        let options = PatchMatchOptions(patchRadius: 2, iterations: 5, seed: 1)
        let out = try damaged.filled(through: mask, method: .patchMatch(options)).bytes()
        var exact = 0
        for p in 0 ..< w * h {
            let px = Array(out[p * 3 ..< p * 3 + 3]), want = Array(truth[p * 3 ..< p * 3 + 3])
            if m[p] == 0 { XCTAssertEqual(px, want, "known pixel \(p) changed") } else if px == want { exact += 1 }
        }
        // The stripes are an exact self-similar texture: almost every hole pixel must come back exactly.
        XCTAssertGreaterThanOrEqual(exact, 63 * 9 / 10, "\(exact) of 63 hole pixels reproduced")
        // Deterministic for a seed.
        XCTAssertEqual(try damaged.filled(through: mask, method: .patchMatch(options)).bytes(), out)
    }

    func testFillStaysWithinKnownColours() throws {
        let w = 32, h = 24
        let image = try Pictures.rgb8(width: w, height: h)
        let known = try image.bytes()
        var m = [Float](repeating: 0, count: w * h)
        for y in 6 ..< 16 { for x in 10 ..< 22 { m[y * w + x] = 1 } }
        let out = try image.filled(through: try Mask(values: m, width: w, height: h),
                                   method: .patchMatch(PatchMatchOptions(patchRadius: 2, iterations: 3, seed: 9))).bytes()
        for c in 0 ..< 3 {
            let channel = (0 ..< w * h).filter { m[$0] == 0 }.map { known[$0 * 3 + c] }
            let lo = channel.min() ?? 0, hi = channel.max() ?? 255
            for p in 0 ..< w * h where m[p] > 0 {
                XCTAssertGreaterThanOrEqual(out[p * 3 + c], lo)
                XCTAssertLessThanOrEqual(out[p * 3 + c], hi)
            }
        }
    }

    func testOutpaintContinuesTheTexture() throws {
        let (image, _) = try stripes(30, 20)
        let (_, truth) = try stripes(40, 24)
        for seed: UInt64 in [1, 2, 3] {
            // Default 7x7 patches: wider than the 5-px period, so a patch pins the stripe phase.
            let canvas = try image.extended(by: try CanvasExtension(right: 10, bottom: 4),
                                            fill: .patchMatch(PatchMatchOptions(iterations: 5, seed: seed)))
            XCTAssertEqual(canvas.image.size, ImageSize(width: 40, height: 24))
            let out = try canvas.image.bytes()
            var exact = 0, total = 0
            for y in 0 ..< 24 {
                for x in 0 ..< 40 where x >= 30 || y >= 20 {
                    total += 1
                    let p = (y * 40 + x) * 3
                    if Array(out[p ..< p + 3]) == Array(truth[p ..< p + 3]) { exact += 1 }
                }
            }
            XCTAssertGreaterThanOrEqual(exact * 10, total * 9, "seed \(seed): \(exact) of \(total) new pixels continue the stripes")
            XCTAssertEqual(try canvas.image.cropped(to: canvas.original).bytes(), try image.bytes())
        }
    }
}
