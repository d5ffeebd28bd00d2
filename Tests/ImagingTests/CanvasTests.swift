import XCTest
@testable import Imaging

final class CanvasTests: XCTestCase {
    func testExactSizesAndOriginalUntouchedForEveryFill() throws {
        let fills: [CanvasFill] = [.edge, .mirror, .blur(sigma: 3), .blur(sigma: 20), .noise(seed: 7)]
        let sides = [0, 1, 3, 8]
        for source in [try Pictures.rgb8(width: 13, height: 7), try Pictures.rgb8(width: 1, height: 1)] {
            let original = try source.bytes()
            for l in sides { for t in sides { for r in [0, 5] { for b in [0, 2] {
                let ext = try CanvasExtension(left: l, top: t, right: r, bottom: b)
                for fill in fills where !(ext.isEmpty && fill != .edge) {
                    let canvas = try source.extended(by: ext, fill: fill, seamFeather: 2)
                    let want = ImageSize(width: source.width + l + r, height: source.height + t + b)
                    XCTAssertEqual(canvas.image.size, want, "\(ext) \(fill)")
                    XCTAssertEqual(canvas.mask.size, want)
                    XCTAssertEqual(canvas.original, PixelRect(x: l, y: t, width: source.width, height: source.height))
                    XCTAssertEqual(canvas.image.format, .uchar)
                    let inside = try canvas.image.cropped(to: canvas.original).bytes()
                    XCTAssertEqual(inside, original, "original must be bit-identical: \(ext) \(fill)")
                }
            } } } }
        }
    }

    func testEdgeAndMirrorValues() throws {
        // One row 10 20 30 40, extended 3 left and 2 right.
        let row = try VipsImage(bytes: [10, 20, 30, 40], width: 4, height: 1, bands: 1)
        let ext = try CanvasExtension(left: 3, right: 2)
        XCTAssertEqual(try row.extended(by: ext, fill: .edge).image.bytes(), [10, 10, 10, 10, 20, 30, 40, 40, 40])
        XCTAssertEqual(try row.extended(by: ext, fill: .mirror).image.bytes(), [40, 30, 20, 10, 20, 30, 40, 30, 20])
        // Wider than the image: reflection continues periodically (period 2(n-1) = 6): index -k maps as cv2's
        // borderInterpolate(REFLECT_101): -1→1, -2→2, -3→3, -4→2, -5→1, -6→0, -7→1.
        let wide = try CanvasExtension(left: 7)
        XCTAssertEqual(try row.extended(by: wide, fill: .mirror).image.bytes(), [20, 10, 20, 30, 40, 30, 20] + [10, 20, 30, 40])
        // Vertically too.
        let column = try VipsImage(bytes: [1, 2, 3], width: 1, height: 3, bands: 1)
        XCTAssertEqual(try column.extended(by: try CanvasExtension(top: 2, bottom: 1), fill: .mirror).image.bytes(),
                       [3, 2, 1, 2, 3, 2])
    }

    func testMaskIsOneOnNewAreaAndRampsIntoTheOriginal() throws {
        let source = try Pictures.rgb8(width: 10, height: 6)
        let ext = try CanvasExtension(left: 2, top: 0, right: 0, bottom: 1)
        let canvas = try source.extended(by: ext, fill: .edge, seamFeather: 3)
        let m = try canvas.mask.values()
        let w = 12
        func ramp(_ d: Int) -> Float { Float(0.5 * (1 + cos(Double.pi * Double(d + 1) / 4))) }
        for y in 0 ..< 7 {
            for x in 0 ..< w {
                let value = m[y * w + x]
                if x < 2 || y == 6 {
                    XCTAssertEqual(value, 1, "new area (\(x), \(y))")
                } else {
                    // Distances to the extended sides only (left edge at x = 2, bottom edge at y = 5).
                    let want = max(x - 2 < 3 ? ramp(x - 2) : 0, 5 - y < 3 ? ramp(5 - y) : 0)
                    XCTAssertEqual(value, want, accuracy: 1e-7, "(\(x), \(y))")
                }
            }
        }
        XCTAssertEqual(m[0 * w + 8], 0, "far from the extended sides the original is kept")
        XCTAssertEqual(ramp(2), Float(0.5 * (1 + cos(Double.pi * 3 / 4))), accuracy: 1e-7)
        // Without feather the mask is exactly the new area.
        let hard = try source.extended(by: ext, fill: .edge).mask.values()
        XCTAssertEqual(hard.filter { $0 == 1 }.count, 12 * 7 - 10 * 6)
        XCTAssertEqual(hard.filter { $0 == 0 }.count, 10 * 6)
    }

    func testNoiseIsSeededAndAlphaOpaque() throws {
        let rgba = try VipsImage(bytes: [UInt8](repeating: 9, count: 4 * 4 * 4), width: 4, height: 4, bands: 4)
        let ext = try CanvasExtension(right: 6)
        let a = try rgba.extended(by: ext, fill: .noise(seed: 1)).image.bytes()
        let b = try rgba.extended(by: ext, fill: .noise(seed: 1)).image.bytes()
        let c = try rgba.extended(by: ext, fill: .noise(seed: 2)).image.bytes()
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        for p in 0 ..< 40 { XCTAssertEqual(a[p * 4 + 3], p % 10 < 4 ? 9 : 255) }
        // SplitMix64 reference value for seed 0 (first output, published test vector).
        var g = SplitMix64(seed: 0)
        XCTAssertEqual(g.next(), 0xE220_A839_7B1D_CDAF)
    }

    func testBlurFillIsSmoothAndKeepsDepth() throws {
        let source = try Pictures.rgb16(width: 16, height: 16)
        let canvas = try source.extended(by: try CanvasExtension(left: 16, right: 16), fill: .blur(sigma: 8))
        XCTAssertEqual(canvas.image.bitDepth, 16)
        XCTAssertEqual(canvas.image.size, ImageSize(width: 48, height: 16))
        XCTAssertEqual(try canvas.image.cropped(to: canvas.original).shorts(), try source.shorts())
    }

    func testAlignmentToMultiplesOfEight() throws {
        let image = ImageSize(width: 13, height: 7)
        for (ext, wantExt, wantCrop) in [
            (try CanvasExtension(left: 3), try CanvasExtension(left: 3, right: 0, bottom: 1), PixelRect(x: 0, y: 0, width: 16, height: 7)),
            (try CanvasExtension(left: 1), try CanvasExtension(left: 3, bottom: 1), PixelRect(x: 2, y: 0, width: 14, height: 7)),
            // Only the top is extended vertically, so the 7 extra rows go on top.
            (try CanvasExtension(top: 2, right: 5), try CanvasExtension(top: 9, right: 11),
             PixelRect(x: 0, y: 7, width: 18, height: 9)),
            (try CanvasExtension(top: 1), try CanvasExtension(top: 1, right: 3), PixelRect(x: 0, y: 0, width: 13, height: 8)),
        ] {
            let (aligned, crop) = ext.aligned(toMultipleOf: 8, imageSize: image)
            let canvas = aligned.canvasSize(for: image)
            XCTAssertEqual(canvas.width % 8, 0)
            XCTAssertEqual(canvas.height % 8, 0)
            XCTAssertEqual(crop.size, ext.canvasSize(for: image))
            XCTAssertEqual(crop, wantCrop, "\(ext)")
            XCTAssertEqual(aligned, wantExt, "\(ext)")
            // The original sits at the same place relative to the crop.
            XCTAssertEqual(aligned.originalRect(for: image).x - crop.x, ext.left)
            XCTAssertEqual(aligned.originalRect(for: image).y - crop.y, ext.top)
        }
        XCTAssertThrowsError(try CanvasExtension(left: -1))
    }
}
