@testable import Engine
import Foundation
import Imaging
import Tensor
import XCTest

/// The streamed refine (`RefineStream`: rows of tiles, seam windows as soon as their rows are ready) must give
/// exactly the result of the whole-image algorithm it replaced, which is kept here, spelled out with public
/// pieces only, as the reference: every pass over planes of the whole padded image, in pass order.
final class RefineStreamingTests: XCTestCase {
    func settings(tile: Int, overlap: Int, seamFix: Bool) -> RefineSettings {
        RefineFixtures.settings(tile: tile, overlap: overlap, seamFix: seamFix, seed: 99)
    }

    func image(width: Int, height: Int) throws -> PlanarRGB {
        var values = [Float](repeating: 0, count: 3 * width * height)
        for c in 0 ..< 3 {
            for y in 0 ..< height {
                for x in 0 ..< width {
                    values[(c * height + y) * width + x] = 0.8 * sin(Float(x) * 0.23 + Float(c)) * cos(Float(y) * 0.11 - Float(c))
                }
            }
        }
        return try PlanarRGB(width: width, height: height, values: values)
    }

    /// The pre-streaming refine, whole image in memory.
    func wholeImageReference(_ image: PlanarRGB, _ s: RefineSettings) throws -> PlanarRGB {
        let model = try RefineTests.model.get()
        let refiner = try TileRefiner(model: model, settings: s)
        let pipeline = StableDiffusionPipeline(model: model)
        var current = try refiner.padded(image)
        let (W, H) = (current.width, current.height)
        func window(_ rect: PixelRect, seed: UInt64, strength: Double) throws -> [Float] {
            var crop = [Float](repeating: 0, count: 3 * rect.width * rect.height)
            for c in 0 ..< 3 {
                for y in 0 ..< rect.height {
                    for x in 0 ..< rect.width {
                        crop[(c * rect.height + y) * rect.width + x] = current.values[(c * H + rect.y + y) * W + rect.x + x]
                    }
                }
            }
            var request = GenerationRequest(prompt: s.prompt)
            request.negativePrompt = s.negativePrompt
            request.sampler = s.sampler
            request.steps = s.steps
            request.cfgScale = s.cfgScale
            request.seed = seed
            request.width = rect.width
            request.height = rect.height
            request.initImage = Tensor(shape: [1, 3, rect.height, rect.width], values: crop)
            request.strength = strength
            return try pipeline.run(request).decoded.scalars
        }
        func store(_ r: FinishedRegion, into planes: inout [Float], width: Int, height: Int) {
            for y in 0 ..< r.height {
                for x in 0 ..< r.width {
                    for c in 0 ..< 3 {
                        planes[(c * height + r.y + y) * width + r.x + x] = r.samples[y * r.rowStride + x * r.bands + c]
                    }
                }
            }
        }
        let grid = try refiner.grid(for: ImageSize(width: image.width, height: image.height))
        var assembler = try TileAssembler(grid: grid, bands: 3)
        var refined = [Float](repeating: 0, count: current.values.count)
        for tile in grid.tiles {
            let planes = try window(tile.input, seed: RefineSeed.derive(base: s.seed, pass: .tiles, column: tile.column, row: tile.row),
                                    strength: s.strength)
            try assembler.add(tile, planes: planes) { store($0, into: &refined, width: W, height: H) }
        }
        current.values = refined
        for band in s.seamFix ? SeamBand.bands(of: grid, width: s.seamBandWidth) : [] {
            let r = band.rect
            let bandGrid = try TileGrid(imageSize: r.size, tileSize: s.tile, overlap: s.overlap)
            var bandAssembler = try TileAssembler(grid: bandGrid, bands: 3)
            var result = [Float](repeating: 0, count: 3 * r.width * r.height)
            for w in bandGrid.tiles {
                let rect = PixelRect(x: r.x + w.input.x, y: r.y + w.input.y, width: w.input.width, height: w.input.height)
                let planes = try window(rect, seed: band.seed(base: s.seed, window: w), strength: s.seamStrength)
                try bandAssembler.add(w, planes: planes) { store($0, into: &result, width: r.width, height: r.height) }
            }
            let mask = band.feather
            for c in 0 ..< 3 {
                for y in 0 ..< r.height {
                    for x in 0 ..< r.width {
                        let m = band.pass == .verticalSeams ? mask[x] : mask[y]
                        let i = (c * H + r.y + y) * W + r.x + x
                        let v = current.values[i]
                        current.values[i] = v + m * (result[(c * r.height + y) * r.width + x] - v)
                    }
                }
            }
        }
        var values = [Float](repeating: 0, count: 3 * image.width * image.height)
        for c in 0 ..< 3 {
            for y in 0 ..< image.height {
                for x in 0 ..< image.width { values[(c * image.height + y) * image.width + x] = current.values[(c * H + y) * W + x] }
            }
        }
        return try PlanarRGB(width: image.width, height: image.height, values: values)
    }

    /// Padding, 4 × 5 tiles, and seam bands that overlap their neighbours (overlap 16 of a 32 tile: bands 32
    /// wide every 16 px), so each vertical band has to wait for the one before it.
    func testStreamedRefineIsBitIdenticalToTheWholeImageRefine() throws {
        let model = try RefineTests.model.get()
        let source = try image(width: 77, height: 93)    // pads to 80 × 96
        for (tile, overlap, seamFix) in [(32, 16, true), (32, 8, true), (32, 8, false)] {
            let s = settings(tile: tile, overlap: overlap, seamFix: seamFix)
            let streamed = try TileRefiner(model: model, settings: s).refine(source)
            XCTAssertEqual(streamed.values, try wholeImageReference(source, s).values, "tile \(tile) overlap \(overlap) seam fix \(seamFix)")
        }
    }

    /// The VipsImage path (read by row bands, rows quantised into a temporary file) equals the in-memory path
    /// followed by the conversion the plugin used before: planarRGB() in, VipsImage(planarRGB:bitDepth:) out.
    func testStreamedImageRefineEqualsThePlanarRefineQuantised() throws {
        let model = try RefineTests.model.get()
        let dir = try UpscaleFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let refiner = try TileRefiner(model: model, settings: settings(tile: 32, overlap: 8, seamFix: true))
        let planar = try image(width: 61, height: 150)
        for bitDepth in [8, 16] {
            let input = try VipsImage(planarRGB: planar, bitDepth: bitDepth)
            let expected = try VipsImage(planarRGB: try refiner.refine(try input.planarRGB()), bitDepth: bitDepth)
            let (bytes, shorts, interpretation) = try refiner.refine(input, scratchDirectory: dir) { out in
                (bitDepth == 8 ? try out.bytes() : [], bitDepth == 16 ? try out.shorts() : [], out.interpretation)
            }
            XCTAssertEqual(interpretation, expected.interpretation)
            if bitDepth == 8 { XCTAssertEqual(bytes, try expected.bytes()) } else { XCTAssertEqual(shorts, try expected.shorts()) }
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "the temporary rows went with the refine")
        }
    }

    /// A resize of a sequential load cannot be read as separate row bands (libvips: "out of order read"), so the
    /// plugin spools it first; refining the spooled image by row bands, several strips tall, gives the result of
    /// refining the fully decoded image.
    func testRefineReadsALazyResizeOfASequentialLoad() throws {
        let model = try RefineTests.model.get()
        let dir = try UpscaleFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = dir + "/tall.png"
        try VipsImage(planarRGB: try image(width: 40, height: 300)).write(to: source, overwrite: false)
        let refiner = try TileRefiner(model: model, settings: settings(tile: 32, overlap: 8, seamFix: true))
        let decoded = try VipsImage.load(path: source).resized(width: 32, height: 260, kernel: .lanczos3)
        let expected = try VipsImage(planarRGB: try refiner.refine(try decoded.planarRGB())).bytes()
        let lazy = try VipsImage.load(path: source, mode: .sequential).resized(width: 32, height: 260, kernel: .lanczos3)
        XCTAssertThrowsError(try refiner.refine(lazy, scratchDirectory: dir) { try $0.bytes() }, "read directly")
        let lazyAgain = try VipsImage.load(path: source, mode: .sequential).resized(width: 32, height: 260, kernel: .lanczos3)
        let spool = try SpooledImage(lazyAgain, directory: dir)
        let streamed = try refiner.refine(spool.image, scratchDirectory: dir) { try $0.bytes() }
        XCTAssertEqual(streamed, expected)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).count, 2, "the source and the spool")
        withExtendedLifetime(spool) {}
    }

    /// Memory follows the width and the tile, not the height: a tall image never has more than a few rows of
    /// tiles in the canvas, like an image half as tall (the exact count moves with where the grid's evenly
    /// spread rows fall).
    func testCanvasHoldsAFewTileRowsWhateverTheHeight() throws {
        let model = try RefineTests.model.get()
        let refiner = try TileRefiner(model: model, settings: settings(tile: 32, overlap: 8, seamFix: true))
        func peak(height: Int) throws -> Int {
            let width = 56
            let stream = try RefineStream(refiner: refiner, size: ImageSize(width: width, height: height),
                                          read: { [Float](repeating: 0.1, count: $0.count * 3 * width) },
                                          write: { _, _, _ in }, progress: { _ in }, isCancelled: { false }, onTile: { _, _ in })
            try stream.run()
            return stream.peakCanvasRows
        }
        let short = try peak(height: 160), tall = try peak(height: 320)
        XCTAssertLessThanOrEqual(short, 3 * 32, "a few rows of 32-pixel tiles, not the 160-row image")
        XCTAssertLessThanOrEqual(tall, 3 * 32, "a few rows of 32-pixel tiles, not the 320-row image")
    }

    func testImagesOverTheOldWholeImageLimitAreAccepted() throws {
        XCTAssertNoThrow(try TileRefiner.checkLimits(ImageSize(width: 8192, height: 8192), bytesPerSample: 1))
        XCTAssertThrowsError(try TileRefiner.checkLimits(ImageSize(width: 70_000, height: 8), bytesPerSample: 1)) { error in
            guard case .invalidSize(70_000, 8, _)? = error as? EngineError else { return XCTFail("\(error)") }
        }
    }
}
