import DiffusionProtocol
import Imaging
import InpaintPlugin
import PluginAPI
import XCTest

final class InpaintPluginTests: XCTestCase {
    /// Every model-free fill × area × input kind, with grow and a feather: every pixel farther than the mask's
    /// reach (grow + the feather kernel radius) from the painted rectangle is bit-identical to the input.
    func testPixelsBeyondTheFeatherAreBitIdenticalForEveryMode() throws {
        let (w, h) = (24, 20)
        let hole = PixelRect(x: 9, y: 7, width: 5, height: 4)
        let mask = try TestImages.rectMask(width: w, height: h, rect: hole)
        let options = MaskOptions(grow: 1, featherX: 1.5, featherY: 0.8)
        let reach = options.reach
        for kind in PixelKind.allCases {
            let image = try TestImages.make(kind, width: w, height: h, seed: 3)
            for fill in ["edge", "blur", "patchmatch"] {
                for area in ["whole", "masked"] {
                    let (out, _) = try PluginHarness.run(InpaintPlugin(), [
                        "image": try TestImages.png(image), "mask": try TestImages.png(mask), "fill": .string(fill),
                        "area": .string(area), "padding": 2, "grow": 1, "feather": ["x": 1.5, "y": 0.8],
                        "color_match": .bool(fill == "blur"),
                    ])
                    let label = "\(fill), area \(area), \(kind)"
                    XCTAssertEqual(out.size, image.size, label)
                    XCTAssertEqual(out.bands, image.bands, label)
                    let a = try TestImages.samples(out), o = try TestImages.samples(image)
                    var changedInside = 0, changedOutside = 0
                    for y in 0 ..< h { for x in 0 ..< w {
                        let near = x >= hole.x - reach.x && x < hole.maxX + reach.x && y >= hole.y - reach.y && y < hole.maxY + reach.y
                        for c in 0 ..< image.bands where a[(y * w + x) * image.bands + c] != o[(y * w + x) * image.bands + c] {
                            if near { changedInside += 1 } else { changedOutside += 1 }
                        }
                    } }
                    XCTAssertEqual(changedOutside, 0, "bit-identical beyond the feather: \(label)")
                    XCTAssertGreaterThan(changedInside, 0, "the hole was repainted: \(label)")
                }
            }
        }
    }

    /// `from_alpha`: the transparent pixels are repainted (and become opaque), opaque ones are untouched.
    func testFromAlphaRepaintsTransparentPixels() throws {
        let (w, h) = (10, 8)
        var bytes = try TestImages.make(.rgba8, width: w, height: h, seed: 5).bytes()
        for i in 0 ..< w * h { bytes[i * 4 + 3] = 255 }
        for y in 3 ..< 5 { for x in 4 ..< 7 { bytes[(y * w + x) * 4 + 3] = 0 } }
        let image = try VipsImage(bytes: bytes, width: w, height: h, bands: 4, interpretation: .srgb)
        let (out, _) = try PluginHarness.run(InpaintPlugin(), ["image": try TestImages.png(image), "mask": ["from_alpha": true],
                                                               "fill": "edge"])
        let a = try out.bytes()
        for y in 0 ..< h { for x in 0 ..< w {
            let hole = (3 ..< 5).contains(y) && (4 ..< 7).contains(x)
            if hole {
                XCTAssertEqual(a[(y * w + x) * 4 + 3], 255, "hole pixel (\(x), \(y)) made opaque")
            } else {
                XCTAssertEqual(Array(a[(y * w + x) * 4 ..< (y * w + x) * 4 + 4]), Array(bytes[(y * w + x) * 4 ..< (y * w + x) * 4 + 4]),
                               "kept pixel (\(x), \(y))")
            }
        } }
    }

    func testFromAlphaWithoutAlphaIsAnError() throws {
        let encoded = try TestImages.png(try TestImages.make(.rgb8, width: 4, height: 4))
        XCTAssertThrowsError(try PluginHarness.run(InpaintPlugin(), ["image": encoded, "mask": ["from_alpha": true]])) { error in
            guard case .invalidParam(let field, _)? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "mask.from_alpha")
        }
    }

    /// A mask of another size is refused with both sizes in the message, or resized with `resize_mask`.
    func testMaskSizeMismatchNamesBothSizesOrIsResized() throws {
        let image = try TestImages.png(try TestImages.make(.rgb8, width: 12, height: 10))
        let mask = try TestImages.png(try TestImages.rectMask(width: 6, height: 5, rect: PixelRect(x: 2, y: 2, width: 2, height: 2)))
        XCTAssertThrowsError(try PluginHarness.run(InpaintPlugin(), ["image": image, "mask": mask, "fill": "edge"])) { error in
            let message = (error as? PluginError)?.rpcError.message ?? "\(error)"
            XCTAssertTrue(message.contains("12x10") && message.contains("6x5"), message)
        }
        let (out, _) = try PluginHarness.run(InpaintPlugin(), ["image": image, "mask": mask, "fill": "edge", "resize_mask": true])
        XCTAssertEqual(out.size, ImageSize(width: 12, height: 10))
    }

    func testLatentFillsWithoutModelAndEmptyMaskAreClearErrors() throws {
        let image = try TestImages.png(try TestImages.make(.rgb8, width: 8, height: 8))
        let black = try TestImages.png(try TestImages.maskPicture([UInt8](repeating: 0, count: 64), width: 8, height: 8))
        XCTAssertThrowsError(try PluginHarness.run(InpaintPlugin(), ["image": image, "mask": black, "fill": "latent_noise"]))
        XCTAssertThrowsError(try PluginHarness.run(InpaintPlugin(), ["image": image, "mask": black, "fill": "edge"])) { error in
            let message = (error as? PluginError)?.rpcError.message ?? "\(error)"
            XCTAssertTrue(message.contains("selects no pixel"), message)
        }
        // invert turns the all-black mask into repaint-everything, which is valid.
        XCTAssertNoThrow(try PluginHarness.run(InpaintPlugin(), ["image": image, "mask": black, "fill": "edge", "invert": true]))
    }
}
