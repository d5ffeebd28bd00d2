import XCTest
@testable import Imaging

final class MaskTests: XCTestCase {
    /// A w×h mask with 1 at the listed (x, y) points.
    func points(_ w: Int, _ h: Int, _ ones: [(Int, Int)]) throws -> Mask {
        var v = [Float](repeating: 0, count: w * h)
        for (x, y) in ones { v[y * w + x] = 1 }
        return try Mask(values: v, width: w, height: h)
    }

    func grid(_ mask: Mask) throws -> [[Float]] {
        let v = try mask.values()
        return (0 ..< mask.height).map { Array(v[$0 * mask.width ..< ($0 + 1) * mask.width]) }
    }

    func testPolarityFromGreyRGBAndSixteenBit() throws {
        // White = repaint (1), black = keep (0).
        let grey = try VipsImage(bytes: [0, 255, 51], width: 3, height: 1, bands: 1)
        XCTAssertEqual(try Mask(maskImage: grey).values(), [0, 1, Float(51) / 255])
        let grey16 = try VipsImage(shorts: [0, 65535], width: 2, height: 1, bands: 1)
        XCTAssertEqual(try Mask(maskImage: grey16).values(), [0, 1])
        // RGB -> PIL's L: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, then / 255.
        let rgb = try VipsImage(bytes: [255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 33],
                                width: 5, height: 1, bands: 3)
        func pil(_ r: Int, _ g: Int, _ b: Int) -> Float { Float((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) / 255 }
        XCTAssertEqual(try Mask(maskImage: rgb).values(), [1, pil(255, 0, 0), pil(0, 255, 0), pil(0, 0, 255), pil(10, 200, 33)])
        XCTAssertEqual(pil(255, 0, 0), Float(76) / 255)
        // The mask file's own alpha is ignored.
        let rgba = try VipsImage(bytes: [255, 255, 255, 0, 0, 0, 0, 255], width: 2, height: 1, bands: 4)
        XCTAssertEqual(try Mask(maskImage: rgba).values(), [1, 0])
    }

    func testFromAlphaTransparentIsRepaint() throws {
        let rgba = try VipsImage(bytes: [9, 9, 9, 0, 9, 9, 9, 255, 9, 9, 9, 51], width: 3, height: 1, bands: 4)
        XCTAssertEqual(try Mask(alphaOf: rgba).values(), [1, 0, Float(1 - 51.0 / 255)])  // one rounding, from double
        let rgba16 = try VipsImage(shorts: [1, 2, 3, 0, 1, 2, 3, 65535], width: 2, height: 1, bands: 4)
        XCTAssertEqual(try Mask(alphaOf: rgba16).values(), [1, 0])
        let greyAlpha = try VipsImage(bytes: [7, 0, 7, 255], width: 2, height: 1, bands: 2)
        XCTAssertEqual(try Mask(alphaOf: greyAlpha).values(), [1, 0])
        assertImagingError(try Mask(alphaOf: try Pictures.rgb8(width: 2, height: 2))) {
            if case .invalidArgument(let d) = $0 { return d.contains("no alpha") }
            return false
        }
    }

    func testInvertAndThreshold() throws {
        let m = try Mask(values: [0, 0.25, 0.5, 0.75, 1], width: 5, height: 1)
        XCTAssertEqual(try m.inverted().values(), [1, 0.75, 0.5, 0.25, 0])
        XCTAssertEqual(try m.thresholded(at: 0.5).values(), [0, 0, 1, 1, 1])
        XCTAssertEqual(try m.thresholded(at: 0.8).values(), [0, 0, 0, 0, 1])
    }

    func testGrowIsACrossThenAnOctagon() throws {
        let dot = try points(7, 7, [(3, 3)])
        XCTAssertEqual(try grid(dot.grown(by: 1)), [
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 1, 1, 1, 0, 0],
            [0, 0, 0, 1, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ])
        XCTAssertEqual(try grid(dot.grown(by: 2)), [
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 1, 1, 1, 0, 0],
            [0, 1, 1, 1, 1, 1, 0],
            [0, 1, 1, 1, 1, 1, 0],
            [0, 1, 1, 1, 1, 1, 0],
            [0, 0, 1, 1, 1, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ])
        // At the border nothing wraps or smears: a corner dot grows into the image only.
        XCTAssertEqual(try grid(points(3, 3, [(0, 0)]).grown(by: 1)), [[1, 1, 0], [1, 0, 0], [0, 0, 0]])
    }

    func testGrowKeepsGreyLevelsAndShrinkErodes() throws {
        let soft = try Mask(values: [0, 0, 0.5, 0, 0], width: 5, height: 1)
        XCTAssertEqual(try soft.grown(by: 1).values(), [0, 0.5, 0.5, 0.5, 0])
        let block = try Mask(values: [Float](repeating: 1, count: 25), width: 5, height: 5)
        let hole = try points(5, 5, [(2, 2)]).inverted()  // all ones but the centre
        XCTAssertEqual(try grid(hole.grown(by: -1)), [
            [1, 1, 1, 1, 1],
            [1, 1, 0, 1, 1],
            [1, 0, 0, 0, 1],
            [1, 1, 0, 1, 1],
            [1, 1, 1, 1, 1],
        ])
        // Eroding a full mask leaves it full (borders repeat, they are not treated as 0).
        XCTAssertEqual(Set(try block.grown(by: -2).values()), [1])
    }

    /// The definition, step by step on arrays: odd steps a cross, even steps a 3x3 square, borders clamped.
    func referenceGrow(_ v: [Float], _ w: Int, _ h: Int, _ r: Int) -> [Float] {
        var cur = v
        for step in 1 ... abs(r) {
            var next = cur
            for y in 0 ..< h {
                for x in 0 ..< w {
                    var best = cur[y * w + x]
                    for dy in -1 ... 1 {
                        for dx in -1 ... 1 where step % 2 == 0 || dx == 0 || dy == 0 {
                            let sx = min(max(x + dx, 0), w - 1), sy = min(max(y + dy, 0), h - 1)
                            best = r > 0 ? max(best, cur[sy * w + sx]) : min(best, cur[sy * w + sx])
                        }
                    }
                    next[y * w + x] = best
                }
            }
            cur = next
        }
        return cur
    }

    func testGrowEqualsStepwiseDefinition() throws {
        let w = 23, h = 17
        var g = SplitMix64(seed: 11)
        let soft = (0 ..< w * h).map { _ in g.next() % 5 == 0 ? Float(g.next() % 256) / 255 : 0 }
        let mask = try Mask(values: soft, width: w, height: h)
        for r in [1, 2, 3, 4, 5, 7, 12, -1, -2, -3, -6] {
            XCTAssertEqual(try mask.grown(by: r).values(), referenceGrow(soft, w, h, r), "grow \(r)")
        }
    }

    func testGaussianKernelMatchesA1111Formula() {
        // sigma 1: size 2 * int(3.0) + 1 = 7; weights exp(-x^2 / 2).
        let k = Mask.gaussianKernel(sigma: 1)
        XCTAssertEqual(k.count, 7)
        let raw = (-3 ... 3).map { exp(-Double($0 * $0) / 2) }
        let sum = raw.reduce(0, +)
        for (a, b) in zip(k, raw.map { $0 / sum }) { XCTAssertEqual(a, b, accuracy: 1e-15) }
        XCTAssertEqual(Mask.gaussianKernel(sigma: 4).count, 2 * 10 + 1)
        XCTAssertEqual(Mask.gaussianKernel(sigma: 0.1).count, 1)
    }

    /// Reference: the blur written out directly, with cv2's BORDER_REFLECT_101 index mapping.
    func referenceBlurX(_ v: [Float], width: Int, height: Int, sigma: Double) -> [Float] {
        let k = Mask.gaussianKernel(sigma: sigma)
        let r = k.count / 2
        func reflect(_ i: Int) -> Int {
            if width == 1 { return 0 }
            var i = i
            while i < 0 || i >= width { i = i < 0 ? -i : 2 * (width - 1) - i }
            return i
        }
        var out = [Float](repeating: 0, count: v.count)
        for y in 0 ..< height {
            for x in 0 ..< width {
                var acc = 0.0
                for j in -r ... r { acc += k[j + r] * Double(v[y * width + reflect(x + j)]) }
                out[y * width + x] = Float(acc)
            }
        }
        return out
    }

    func testFeatherMatchesReferenceIncludingReflectedBorders() throws {
        let w = 9
        let values: [Float] = [1, 0, 0, 0, 0, 0, 0, 0.5, 1]
        let m = try Mask(values: values, width: w, height: 1)
        for sigma in [1.0, 2.0, 4.0] {  // 4: radius 10 > width, reflection wraps more than once
            let got = try m.feathered(x: sigma, y: 0).values()
            let want = referenceBlurX(values, width: w, height: 1, sigma: sigma)
            // Tolerance 1e-6: libvips convolves in float, the reference in double.
            for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-6, "sigma \(sigma)") }
        }
        // Vertical only: a horizontal line spreads up and down, not sideways.
        let line = try points(5, 9, [(1, 4), (2, 4), (3, 4)])
        let v = try grid(line.feathered(x: 0, y: 1))
        for row in v { XCTAssertEqual(row[0], 0); XCTAssertEqual(row[4], 0) }
        let k = Mask.gaussianKernel(sigma: 1)
        for y in 0 ..< 9 {
            let d = abs(y - 4)
            XCTAssertEqual(v[y][2], d <= 3 ? Float(k[3 + d]) : 0, accuracy: 1e-6)
        }
    }

    func testFeatherLeavesFarPixelsExactlyZero() throws {
        let m = try points(40, 40, [(20, 20)])
        let f = try grid(m.feathered(x: 2, y: 3))  // radius 5 across, 8 down
        for y in 0 ..< 40 {
            for x in 0 ..< 40 where abs(x - 20) > 5 || abs(y - 20) > 8 {
                XCTAssertEqual(f[y][x], 0, "(\(x), \(y))")
            }
        }
        XCTAssertGreaterThan(f[20][25], 0)
        XCTAssertGreaterThan(f[28][20], 0)
        XCTAssertEqual(MaskOptions(grow: 3, featherX: 2, featherY: 3).reach.x, 8)
    }

    func testSizeMismatchNamesBothSizesOrResizes() throws {
        let m = try Mask.filled(1, size: ImageSize(width: 4, height: 3))
        let target = ImageSize(width: 8, height: 6)
        assertImagingError(try m.conformed(to: target, resize: false)) {
            $0 == .sizeMismatch(what: "the mask", expected: target, actual: ImageSize(width: 4, height: 3))
        }
        XCTAssertTrue(ImagingError.sizeMismatch(what: "the mask", expected: target, actual: m.size).description
            .contains("4x3 but the image is 8x6"))
        let fitted = try m.conformed(to: target, resize: true)
        XCTAssertEqual(fitted.size, target)
        XCTAssertEqual(Set(try fitted.values()), [1])
    }

    func testOptionsOrderAndBoundingBox() throws {
        // Invert a black dot on white, so only the dot is repainted, then grow it by one.
        let dotOnWhite = try points(5, 5, [(2, 2)]).inverted()
        let mask = try dotOnWhite.applying(MaskOptions(invert: true, threshold: 0.5, grow: 1), imageSize: ImageSize(width: 5, height: 5))
        XCTAssertEqual(try mask.boundingBox(), PixelRect(x: 1, y: 1, width: 3, height: 3))
        XCTAssertNil(try Mask.filled(0, size: ImageSize(width: 3, height: 2)).boundingBox())
        let pic = try mask.picture()
        XCTAssertEqual(pic.bitDepth, 8)
        XCTAssertEqual(try pic.bytes()[12], 255)
    }
}
