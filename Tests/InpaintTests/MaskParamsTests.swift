import DiffusionProtocol
import Imaging
import InpaintPlugin
import PluginAPI
import StrictJSON
import XCTest

/// Mask polarity and options on tiny synthetic masks, with exact expected values.
final class MaskParamsTests: XCTestCase {
    private func resolve(_ levels: [UInt8], width: Int, height: Int, _ extra: [String: JSONValue] = [:]) throws -> [Float] {
        let image = try TestImages.make(.rgb8, width: width, height: height)
        var params: [String: JSONValue] = ["mask": try TestImages.png(try TestImages.maskPicture(levels, width: width, height: height))]
        for (k, v) in extra { params[k] = v }
        return try MaskParams.resolve(params, image: image, context: PluginHarness.context(method: "inpaint")).values()
    }

    func testWhiteRepaintsBlackKeepsGreyIsProportional() throws {
        // 255 → 1, 0 → 0, 51 → 0.2 (51/255 rounded once to float32).
        XCTAssertEqual(try resolve([0, 255, 51, 0], width: 2, height: 2), [0, 1, Float(51.0 / 255.0), 0])
    }

    func testInvertAndThreshold() throws {
        XCTAssertEqual(try resolve([0, 255, 51, 0], width: 2, height: 2, ["invert": true]), [1, 0, Float(1 - 51.0 / 255.0), 1])
        // Threshold 0.5: 128/255 ≥ 0.5 repaints, 127/255 keeps.
        XCTAssertEqual(try resolve([127, 128, 255, 0], width: 2, height: 2, ["threshold": 0.5]), [0, 1, 1, 0])
    }

    func testFromAlphaTransparentRepaints() throws {
        let bytes: [UInt8] = [10, 20, 30, 0, 10, 20, 30, 255, 10, 20, 30, 51, 10, 20, 30, 255]
        let image = try VipsImage(bytes: bytes, width: 2, height: 2, bands: 4, interpretation: .srgb)
        let mask = try MaskParams.resolve(["mask": ["from_alpha": true]], image: image,
                                          context: PluginHarness.context(method: "inpaint"))
        let v = try mask.values()
        XCTAssertEqual(v[0], 1); XCTAssertEqual(v[1], 0); XCTAssertEqual(v[3], 0)
        XCTAssertEqual(v[2], Float(1 - 51.0 / 255.0), accuracy: 1e-6, "alpha 51 → repaint 1 − 51/255 (float rounding)")
    }

    /// grow 1 around one pixel: the 3-pixel cross (first step of the octagon), exactly.
    func testGrowOneIsACross() throws {
        var levels = [UInt8](repeating: 0, count: 25)
        levels[12] = 255
        let v = try resolve(levels, width: 5, height: 5, ["grow": 1])
        let expected: [Float] = [0, 0, 0, 0, 0,
                                 0, 0, 1, 0, 0,
                                 0, 1, 1, 1, 0,
                                 0, 0, 1, 0, 0,
                                 0, 0, 0, 0, 0]
        XCTAssertEqual(v, expected)
        // grow -1 erodes it away again.
        XCTAssertEqual(try resolve(levels, width: 5, height: 5, ["grow": -1]), [Float](repeating: 0, count: 25))
    }

    /// feather {x: 1, y: 0} of one white pixel is the normalised 1-D Gaussian kernel along the row, 0 elsewhere.
    func testFeatherXOnlyIsTheGaussianKernelAlongTheRow() throws {
        var levels = [UInt8](repeating: 0, count: 9 * 3)
        levels[9 + 4] = 255
        let v = try resolve(levels, width: 9, height: 3, ["feather": ["x": 1, "y": 0]])
        let kernel = Mask.gaussianKernel(sigma: 1)  // 2·⌊2.5 + 0.5⌋ + 1 = 7 taps
        XCTAssertEqual(kernel.count, 7)
        for x in 0 ..< 9 {
            let expected = (1 ... 7).contains(x) ? Float(kernel[x - 1]) : 0
            // 1e-6: libvips convolves in float; the kernel is double.
            XCTAssertEqual(v[9 + x], expected, accuracy: 1e-6, "row 1, x \(x)")
            XCTAssertEqual(v[x], 0, "row 0 untouched, x \(x)")
            XCTAssertEqual(v[18 + x], 0, "row 2 untouched, x \(x)")
        }
    }

    func testRGBMaskUsesLuminance() throws {
        let image = try TestImages.make(.rgb8, width: 1, height: 1)
        let maskPicture = try VipsImage(bytes: [255, 0, 0], width: 1, height: 1, bands: 3, interpretation: .srgb)
        let v = try MaskParams.resolve(["mask": try TestImages.png(maskPicture)], image: image,
                                       context: PluginHarness.context(method: "inpaint")).values()
        // PIL "L" of pure red: (255·19595 + 0x8000) >> 16 = 76.
        XCTAssertEqual(v, [Float(76.0 / 255.0)])
    }
}
