import XCTest
@testable import Imaging

final class ResizeTests: XCTestCase {
    func testExactSizesForEveryKernelIncludingOddSizes() throws {
        let source = try Pictures.rgb8(width: 37, height: 23)
        let targets = [(1, 1), (7, 3), (36, 22), (37, 23), (38, 24), (101, 67), (12, 59), (74, 46)]
        for kernel in ResizeKernel.allCases {
            for (w, h) in targets {
                let out = try source.resized(width: w, height: h, kernel: kernel)
                XCTAssertEqual(out.size, ImageSize(width: w, height: h), "\(kernel) -> \(w)x\(h)")
                XCTAssertEqual(out.bitDepth, 8)
                XCTAssertEqual(out.bands, 3)
                XCTAssertEqual(try out.bytes().count, w * h * 3)
            }
        }
    }

    func testSixteenBitStaysSixteenBit() throws {
        let source = try Pictures.rgb16(width: 20, height: 10)
        for kernel in ResizeKernel.allCases {
            let out = try source.resized(width: 47, height: 5, kernel: kernel)
            XCTAssertEqual(out.bitDepth, 16)
            XCTAssertEqual(out.interpretation, .rgb16)
            XCTAssertEqual(out.size, ImageSize(width: 47, height: 5))
        }
        // A flat 8-bit image stays exactly flat too.
        let flat8 = try VipsImage(bytes: [UInt8](repeating: 77, count: 8 * 8 * 3), width: 8, height: 8, bands: 3)
        for kernel in ResizeKernel.allCases {
            XCTAssertEqual(Set(try flat8.resized(width: 13, height: 5, kernel: kernel).bytes()), [77], "\(kernel)")
        }
        // A flat 16-bit image stays exactly flat (no 8-bit quantisation on the way): 12345 is not a multiple of 257.
        let flat = try VipsImage(shorts: [UInt16](repeating: 12345, count: 8 * 8 * 3), width: 8, height: 8, bands: 3)
        for kernel in ResizeKernel.allCases {
            let out = try flat.resized(width: 13, height: 5, kernel: kernel)
            XCTAssertEqual(Set(try out.shorts()), [12345], "\(kernel)")
        }
    }

    func testNearestDoublingRepeatsPixels() throws {
        let bytes: [UInt8] = [10, 20, 30, 40]
        let grey = try VipsImage(bytes: bytes, width: 2, height: 2, bands: 1)
        let out = try grey.resized(width: 4, height: 4, kernel: .nearest)
        XCTAssertEqual(try out.bytes(), [10, 10, 20, 20, 10, 10, 20, 20, 30, 30, 40, 40, 30, 30, 40, 40])
    }

    /// Opaque red next to fully transparent black: without premultiplication the interpolated edge pixels
    /// mix in the invisible black and turn dark red. Premultiplied, every visible pixel stays pure red.
    func testAlphaEdgesHaveNoDarkHalo() throws {
        let w = 16, h = 4
        var rgba: [UInt8] = []
        for _ in 0 ..< h { for x in 0 ..< w { rgba += x < w / 2 ? [255, 0, 0, 255] : [0, 0, 0, 0] } }
        let image = try VipsImage(bytes: rgba, width: w, height: h, bands: 4)
        XCTAssertTrue(image.hasAlpha)
        for kernel in [ResizeKernel.linear, .cubic, .lanczos3] {
            for (tw, th) in [(37, 9), (7, 2)] {
                let out = try image.resized(width: tw, height: th, kernel: kernel)
                XCTAssertEqual(out.bands, 4)
                let px = try out.bytes()
                var partial = 0
                for i in stride(from: 0, to: px.count, by: 4) where px[i + 3] > 8 {
                    // Tolerance 2/255: unpremultiplying an 8-bit-rounded alpha is exact only up to rounding.
                    XCTAssertGreaterThanOrEqual(px[i], 253, "\(kernel) \(tw)x\(th) pixel \(i / 4): \(px[i ..< i + 4])")
                    XCTAssertLessThanOrEqual(px[i + 1], 2)
                    XCTAssertLessThanOrEqual(px[i + 2], 2)
                    if px[i + 3] < 250 { partial += 1 }
                }
                XCTAssertGreaterThan(partial, 0, "the edge must have partially transparent pixels to test")
            }
        }
    }

    func testSixteenBitAlphaKeepsDepthAndColour() throws {
        var rgba: [UInt16] = []
        for _ in 0 ..< 4 { for x in 0 ..< 8 { rgba += x < 4 ? [1000, 40000, 65535, 65535] : [0, 0, 0, 0] } }
        let image = try VipsImage(shorts: rgba, width: 8, height: 4, bands: 4)
        let out = try image.resized(width: 19, height: 3, kernel: .lanczos3)
        XCTAssertEqual(out.bitDepth, 16)
        let px = try out.shorts()
        for i in stride(from: 0, to: px.count, by: 4) where px[i + 3] > 2000 {
            // Tolerance 40/65535 (~0.15/255): division by a 16-bit-rounded alpha.
            XCTAssertLessThanOrEqual(abs(Int(px[i]) - 1000), 40)
            XCTAssertLessThanOrEqual(abs(Int(px[i + 1]) - 40000), 40)
        }
    }

    func testRejectsNonPositiveSizes() throws {
        let image = try Pictures.rgb8(width: 4, height: 4)
        assertImagingError(try image.resized(width: 0, height: 4, kernel: .linear)) {
            if case .invalidArgument = $0 { return true }
            return false
        }
    }
}
