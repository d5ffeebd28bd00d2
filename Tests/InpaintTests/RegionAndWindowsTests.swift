import Engine
import Imaging
import XCTest

final class RegionAndWindowsTests: XCTestCase {
    /// area "masked" at a model resolution: the crop is diffusers' padded, aspect-widened box, the piece is
    /// resampled to the processing size, and pasting a fully changed piece back changes nothing outside the crop
    /// or where the mask is 0 (bit for bit), for every pixel kind.
    func testMaskedAreaCropsResamplesAndPastesBackExactly() throws {
        let (w, h) = (40, 30)
        var values = [Float](repeating: 0, count: w * h)
        for y in 12 ..< 16 { for x in 20 ..< 26 { values[y * w + x] = 1 } }
        let mask = try Mask(values: values, width: w, height: h)
        for kind in PixelKind.allCases {
            let image = try TestImages.make(kind, width: w, height: h, seed: 9)
            let region = try InpaintRegion(image: image, mask: mask, area: .masked(padding: 4),
                                           processingSize: ImageSize(width: 16, height: 16))
            // bbox 20..<26 × 12..<16 padded by 4 → 16..<30 × 8..<20 (14×12), widened to 1:1 → 14×14 at y 7.
            XCTAssertEqual(region.rect, PixelRect(x: 16, y: 7, width: 14, height: 14), "\(kind)")
            XCTAssertEqual(region.image.size, ImageSize(width: 16, height: 16))
            XCTAssertEqual(region.mask.size, ImageSize(width: 16, height: 16))
            let repainted = try TestImages.make(kind, width: 16, height: 16, seed: 77)
            let out = try region.pasteBack(repainted, into: image, mask: mask)
            let a = try TestImages.samples(out), o = try TestImages.samples(image)
            var changedOutside = 0, changedInside = 0
            for y in 0 ..< h { for x in 0 ..< w { for c in 0 ..< image.bands {
                let i = (y * w + x) * image.bands + c
                if values[y * w + x] == 0 { if a[i] != o[i] { changedOutside += 1 } } else if a[i] != o[i] { changedInside += 1 }
            } } }
            XCTAssertEqual(changedOutside, 0, "mask-0 pixels bit-identical, \(kind)")
            XCTAssertGreaterThan(changedInside, 0, "\(kind)")
        }
    }

    func testEmptyMaskHasNoRegion() throws {
        let image = try TestImages.make(.rgb8, width: 8, height: 8)
        XCTAssertThrowsError(try InpaintRegion(image: image, mask: try Mask.filled(0, size: image.size), area: .masked(padding: 2),
                                               processingSize: nil)) { error in
            XCTAssertEqual(error as? InpaintError, .emptyMask(imageSize: image.size))
        }
    }

    /// A 4000×3000 photo extended by 512 px on the right: only tiles touching the new strip (plus the seam
    /// feather) are kept — one column, none over the untouched interior.
    func testOutpaintWindowsFollowTheBorder() throws {
        let ext = try CanvasExtension(right: 512)
        let canvas = ext.canvasSize(for: ImageSize(width: 4000, height: 3000))
        let original = ext.originalRect(for: ImageSize(width: 4000, height: 3000))
        let rects = OutpaintWindows.repaintRects(canvas: canvas, original: original, extension: ext, seamFeather: 32)
        XCTAssertEqual(rects, [PixelRect(x: 3968, y: 0, width: 544, height: 3000)])
        let windows = try OutpaintWindows(canvas: canvas, repaint: rects, tileSize: 512, overlap: 64)
        XCTAssertFalse(windows.tiles.isEmpty)
        for tile in windows.tiles {
            XCTAssertGreaterThan(tile.input.maxX, 3968, "every window reaches the repaint strip")
        }
        let columns = Set(windows.tiles.map(\.column))
        XCTAssertLessThanOrEqual(columns.count, 2, "only the border column(s): \(columns)")
        XCTAssertEqual(Set(windows.tiles.map(\.row)).count, windows.grid.rows, "the whole height is covered")
        XCTAssertLessThan(windows.tiles.count, windows.grid.tiles.count / 4)
        XCTAssertFalse(OutpaintWindows.fitsInOnePass(canvas: canvas, modelResolution: 512))
    }
}

final class ProcessingSizeTests: XCTestCase {
    /// Regions larger than the pipeline's side limit are processed scaled down, aspect kept, multiples of 8.
    func testLargeRegionsAreFittedUnderTheSideLimit() {
        XCTAssertEqual(ModelInpaint.roundedTo8(ModelInpaint.fitted(ImageSize(width: 30, height: 22), maxSide: 2048)),
                       ImageSize(width: 32, height: 24))
        let big = ModelInpaint.roundedTo8(ModelInpaint.fitted(ImageSize(width: 6000, height: 4000), maxSide: 2048))
        XCTAssertLessThanOrEqual(max(big.width, big.height), 2048)
        XCTAssertEqual(big.width % 8, 0)
        XCTAssertEqual(big.height % 8, 0)
        // Aspect within one 8-px rounding step: 2040·(2/3) = 1360.
        XCTAssertEqual(big, ImageSize(width: 2040, height: 1360))
    }
}
