import XCTest
@testable import Imaging

final class TileGridTests: XCTestCase {
    func testTilesCoverTheImageWithAtLeastTheOverlap() throws {
        for (w, h) in [(1, 1), (100, 100), (129, 77), (512, 512), (513, 1000), (1999, 31)] {
            for (tile, overlap) in [(128, 16), (64, 32), (100, 0), (7, 3)] {
                let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: tile, overlap: overlap)
                XCTAssertEqual(grid.tiles.count, grid.columns * grid.rows)
                var covered = [Bool](repeating: false, count: w * h)
                for t in grid.tiles {
                    XCTAssertEqual(t.input.size, grid.tileSize, "every tile is full size")
                    XCTAssertTrue(PixelRect(x: 0, y: 0, width: w, height: h).contains(t.input))
                    XCTAssertEqual(t.index, t.row * grid.columns + t.column)
                    for y in t.input.y ..< t.input.maxY { for x in t.input.x ..< t.input.maxX { covered[y * w + x] = true } }
                }
                XCTAssertTrue(covered.allSatisfy { $0 }, "\(w)x\(h) tile \(tile) overlap \(overlap)")
                for c in 1 ..< max(1, grid.columns) {
                    let a = grid.tile(column: c - 1, row: 0).input, b = grid.tile(column: c, row: 0).input
                    XCTAssertGreaterThanOrEqual(a.maxX - b.x, overlap)
                }
                for r in 1 ..< max(1, grid.rows) {
                    let a = grid.tile(column: 0, row: r - 1).input, b = grid.tile(column: 0, row: r).input
                    XCTAssertGreaterThanOrEqual(a.maxY - b.y, overlap)
                }
            }
        }
    }

    func testGridIsDeterministicAndKnown() throws {
        let grid = try TileGrid(imageSize: ImageSize(width: 300, height: 128), tileSize: 128, overlap: 16, scale: 4)
        // (300 - 128) / 112 -> 2 more tiles: starts 0, 86, 172 (even spread).
        XCTAssertEqual(grid.columns, 3)
        XCTAssertEqual(grid.rows, 1)
        XCTAssertEqual(grid.tiles.map(\.input.x), [0, 86, 172])
        XCTAssertEqual(grid.tiles[1].output, PixelRect(x: 344, y: 0, width: 512, height: 512))
        XCTAssertEqual(grid.outputSize, ImageSize(width: 1200, height: 512))
        XCTAssertEqual(grid, try TileGrid(imageSize: ImageSize(width: 300, height: 128), tileSize: 128, overlap: 16, scale: 4))
        XCTAssertThrowsError(try TileGrid(imageSize: ImageSize(width: 10, height: 10), tileSize: 8, overlap: 5))
        XCTAssertThrowsError(try TileGrid(imageSize: ImageSize(width: 0, height: 10), tileSize: 8, overlap: 2))
    }

    func testWeightsArePartitionOfUnity() throws {
        for (w, h, tile, overlap, scale) in [(300, 200, 128, 16, 1), (129, 77, 64, 32, 2), (40, 40, 16, 8, 1), (20, 20, 32, 8, 3)] {
            let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: tile, overlap: overlap, scale: scale)
            let out = grid.outputSize
            var sum = [Double](repeating: 0, count: out.width * out.height)
            for t in grid.tiles {
                let weights = grid.weights(for: t)
                for y in 0 ..< t.output.height {
                    for x in 0 ..< t.output.width {
                        let v = weights[y * t.output.width + x]
                        XCTAssertGreaterThan(v, 0, "weights are positive wherever a tile covers")
                        XCTAssertLessThanOrEqual(v, 1)
                        sum[(t.output.y + y) * out.width + t.output.x + x] += Double(v)
                    }
                }
            }
            // Tolerance 1e-6: float32 weights (each correctly rounded from double) multiplied per axis.
            for s in sum { XCTAssertEqual(s, 1, accuracy: 1e-6) }
            // Away from any overlap a tile has weight exactly 1.
            let first = grid.tiles[0]
            if grid.columns > 1 && grid.rows > 1 {
                XCTAssertEqual(grid.weights(for: first)[0], 1)
            }
        }
        // The ramp is a raised cosine, symmetric across a two-tile overlap.
        let grid = try TileGrid(imageSize: ImageSize(width: 24, height: 16), tileSize: 16, overlap: 8)
        let left = grid.horizontalWeights(column: 0), right = grid.horizontalWeights(column: 1)
        XCTAssertEqual(grid.tiles.map(\.input.x), [0, 8])
        for k in 0 ..< 8 {
            XCTAssertEqual(right[k], Float(0.5 - 0.5 * cos(Double.pi * (Double(k) + 0.5) / 8)), accuracy: 1e-7)
            XCTAssertEqual(left[8 + k] + right[k], 1, accuracy: 1e-7)
            XCTAssertEqual(right[k], left[15 - k], accuracy: 1e-7)
        }
    }

    /// An "identity model" (each tile returns exactly its input crop, scaled by nearest for scale > 1): the blended
    /// output must equal the whole image processed at once — no seams anywhere.
    func testIdentityTilesReassembleWithoutSeams() throws {
        let w = 157, h = 93, bands = 3, scale = 2
        let image = (0 ..< w * h * bands).map { Float(($0 * 7919) % 251) }
        let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: 48, overlap: 12, scale: scale)
        var assembler = try TileAssembler(grid: grid, bands: bands)
        var assembled = AssembledOutput(grid, bands: bands)
        for t in grid.tiles { try assembler.add(t, pixels: crop(image, w, bands, t, scale: scale)) { assembled.place($0) } }
        XCTAssertTrue(assembler.isComplete)
        let out = assembled.values
        XCTAssertEqual(out.count, w * scale * h * scale * bands)
        XCTAssertFalse(out.contains { $0.isNaN }, "every output sample was lent")
        var worst: Float = 0
        for y in 0 ..< h * scale {
            for x in 0 ..< w * scale {
                for b in 0 ..< bands {
                    let want = image[((y / scale) * w + x / scale) * bands + b]
                    worst = max(worst, abs(out[(y * w * scale + x) * bands + b] - want))
                }
            }
        }
        // Tolerance 1e-4 on values up to 250: weights sum to 1 within ~1e-7 relative.
        XCTAssertLessThan(worst, 1e-4)
    }

    func testSubmissionOrderDoesNotChangeABit() throws {
        let w = 90, h = 70, bands = 2
        let image = (0 ..< w * h * bands).map { Float(($0 * 104_729) % 1000) / 7 }
        let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: 32, overlap: 10)
        func run(_ order: [Tile]) throws -> [Float] {
            var a = try TileAssembler(grid: grid, bands: bands)
            var out = AssembledOutput(grid, bands: bands)
            for t in order { try a.add(t, pixels: crop(image, w, bands, t, scale: 1)) { out.place($0) } }
            XCTAssertTrue(a.isComplete)
            return out.values
        }
        let inOrder = try run(grid.tiles)
        var generator = SplitMix64(seed: 3)
        for _ in 0 ..< 5 {
            XCTAssertEqual(try run(grid.tiles.shuffled(using: &generator)), inOrder)
        }
        XCTAssertEqual(try run(grid.tiles.reversed()), inOrder)
    }

    /// Planar tiles (the upscaler's and refiner's path) are blended straight from the planes when they come in
    /// order and held as interleaved products when early: both must give the same bits, and in-order
    /// submission holds no tile back.
    func testPlanarSubmissionOrderDoesNotChangeABitAndInOrderHoldsNothing() throws {
        let w = 75, h = 61, bands = 3, scale = 2
        let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: 24, overlap: 9, scale: scale)
        func planes(_ t: Tile) -> [Float] {
            (0 ..< bands * t.output.width * t.output.height).map { Float((($0 + 31 * t.index) * 7919) % 997) / 991 }
        }
        func run(_ order: [Tile]) throws -> ([Float], maxPending: Int) {
            var a = try TileAssembler(grid: grid, bands: bands)
            var out = AssembledOutput(grid, bands: bands), maxPending = 0
            for t in order {
                try a.add(t, planes: planes(t), multiplier: 255) { out.place($0) }
                maxPending = max(maxPending, a.pendingTiles)
            }
            XCTAssertTrue(a.isComplete)
            return (out.values, maxPending)
        }
        let inOrder = try run(grid.tiles)
        XCTAssertEqual(inOrder.maxPending, 0)
        XCTAssertEqual(inOrder.0.count, w * scale * h * scale * bands)
        var generator = SplitMix64(seed: 11)
        for _ in 0 ..< 4 { XCTAssertEqual(try run(grid.tiles.shuffled(using: &generator)).0, inOrder.0) }
        let reversed = try run(grid.tiles.reversed())
        XCTAssertEqual(reversed.0, inOrder.0)
        XCTAssertEqual(reversed.maxPending, grid.tiles.count - 1)
    }

    /// The regions the assembler lends cover every output pixel exactly once, and rows are reported finished
    /// only once all their regions are out; only the rows shared between grid rows are held at full width.
    func testRegionsCoverTheOutputOnceWithSharedRowsOnlyAtFullWidth() throws {
        for (w, h, tile, overlap, scale) in [(400, 100, 64, 8, 4), (90, 70, 32, 16, 1), (33, 200, 16, 8, 2), (50, 40, 64, 8, 1)] {
            let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: tile, overlap: overlap, scale: scale)
            var a = try TileAssembler(grid: grid, bands: 2)
            let out = grid.outputSize
            var covered = [Int](repeating: 0, count: out.width * out.height)
            for t in grid.tiles {
                let before = a.finishedRows
                try a.add(t, pixels: [Float](repeating: 1, count: t.output.width * t.output.height * 2)) { r in
                    XCTAssertGreaterThanOrEqual(r.y, before, "a region of rows already reported finished")
                    for y in r.y ..< r.y + r.height { for x in r.x ..< r.x + r.width { covered[y * out.width + x] += 1 } }
                    for y in 0 ..< r.height {
                        for i in 0 ..< r.width * 2 { XCTAssertEqual(r.samples[y * r.rowStride + i], 1, accuracy: 1e-5) }
                    }
                }
                for y in 0 ..< a.finishedRows { XCTAssertEqual(covered[y * out.width + out.width - 1], 1, "row \(y) finished") }
            }
            XCTAssertTrue(a.isComplete)
            XCTAssertEqual(a.finishedRows, out.height)
            XCTAssertEqual(Set(covered), [1], "\(w)x\(h) tile \(tile) overlap \(overlap) x\(scale)")
        }
        // 1600-wide output, tiles 256 tall spaced 224 apart (32 rows of overlap): the full-width float rows are
        // the overlaps above and below a grid row (64), plus one 256-wide window over at most 224 own rows (the
        // first grid row's; 35 full rows' worth at this width), not the whole 256-row band.
        let grid = try TileGrid(imageSize: ImageSize(width: 400, height: 400), tileSize: 64, overlap: 8, scale: 4)
        XCTAssertEqual(grid.rows, 7)
        let a = try TileAssembler(grid: grid, bands: 3)
        XCTAssertEqual(a.bufferedRows, 64 + 224 * 256 / 1600)
    }

    func testFinishedRowsAdvanceTopToBottomWithBoundedBuffer() throws {
        let grid = try TileGrid(imageSize: ImageSize(width: 200, height: 300), tileSize: 64, overlap: 16, scale: 4)
        var assembler = try TileAssembler(grid: grid, bands: 1)
        var finished = 0
        for t in grid.tiles {
            try assembler.add(t, pixels: [Float](repeating: 1, count: t.output.width * t.output.height)) { r in
                XCTAssertGreaterThanOrEqual(r.y, finished, "a region above rows already finished")
                XCTAssertLessThanOrEqual(r.x + r.width, 800)
            }
            XCTAssertGreaterThanOrEqual(assembler.finishedRows, finished)
            finished = assembler.finishedRows
            // Never more than one tile-row band of output rows is buffered.
            XCTAssertLessThanOrEqual(assembler.bufferedRows, grid.tileSize.height * 4)
        }
        XCTAssertEqual(finished, 1200)
        var fresh = try TileAssembler(grid: grid, bands: 1)
        XCTAssertThrowsError(try fresh.add(grid.tiles[0], pixels: [1]) { _ in })
    }

    func testStripFileSinkBuildsTheImage() throws {
        let dir = try TempDir()
        let w = 37, h = 23, bands = 3
        let image = (0 ..< w * h * bands).map { Float(($0 * 31) % 256) }
        let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: 16, overlap: 4)
        var assembler = try TileAssembler(grid: grid, bands: bands)
        let sink = try StripFileSink(directory: dir.path, width: w, height: h, bands: bands, format: .uchar)
        for t in grid.tiles {
            try assembler.add(t, pixels: crop(image, w, bands, t, scale: 1)) { try sink.write($0) }
        }
        let out = dir.file("out.png")
        try sink.image().write(to: out, overwrite: false)
        XCTAssertEqual(try VipsImage.load(path: out).bytes(), image.map { UInt8($0) })
        let sixteen = try StripFileSink(directory: dir.path, width: 2, height: 1, bands: 1, format: .ushort)
        try sixteen.append(OutputStrip(y: 0, height: 1, width: 2, bands: 1, values: [70000, 1234.5]))
        XCTAssertEqual(try sixteen.image().shorts(), [65535, 1234])  // clamped; half to even
        XCTAssertEqual(try sixteen.image().interpretation, .grey16)
    }

    func testPlanarTilesEqualInterleaved() throws {
        let w = 30, h = 20, bands = 3
        let image = (0 ..< w * h * bands).map { Float(($0 * 13) % 97) / 96 }
        let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: 16, overlap: 4)
        var interleaved = try TileAssembler(grid: grid, bands: bands)
        var planar = try TileAssembler(grid: grid, bands: bands)
        var a = AssembledOutput(grid, bands: bands), b = AssembledOutput(grid, bands: bands)
        for t in grid.tiles {
            let px = crop(image, w, bands, t, scale: 1)
            let n = px.count / bands
            let planes = (0 ..< bands).flatMap { c in (0 ..< n).map { px[$0 * bands + c] } }
            try interleaved.add(t, pixels: px.map { $0 * 255 }) { a.place($0) }
            try planar.add(t, planes: planes, multiplier: 255) { b.place($0) }
        }
        XCTAssertFalse(a.values.contains { $0.isNaN }, "every output sample was lent")
        XCTAssertEqual(a.values, b.values)
    }

    func testTiledOutputWriterWritesAtomicallyAndCleansUpOnCancel() throws {
        let dir = try TempDir()
        let w = 50, h = 30, bands = 3
        let image = (0 ..< w * h * bands).map { Float(($0 * 17) % 256) }
        let grid = try TileGrid(imageSize: ImageSize(width: w, height: h), tileSize: 24, overlap: 6, scale: 2)
        let out = dir.file("big.png")
        do {
            let writer = try TiledOutputWriter(grid: grid, bands: bands, format: .uchar, directory: dir.path)
            for t in grid.tiles { try writer.add(t, pixels: crop(image, w, bands, t, scale: 2)) }
            XCTAssertTrue(writer.isComplete)
            try writer.finish(to: out, overwrite: false) { try $0.resized(width: 99, height: 61, kernel: .lanczos3) }
        }
        XCTAssertEqual(dir.entries, ["big.png"], "the temporary strips went with the writer")
        let back = try VipsImage.load(path: out)
        XCTAssertEqual(back.size, ImageSize(width: 99, height: 61))
        // Cancelled half-way: the writer goes away, the temporary strips with it, nothing at the destination.
        do {
            let partial = try TiledOutputWriter(grid: grid, bands: bands, format: .uchar, directory: dir.path)
            for t in grid.tiles.prefix(3) { try partial.add(t, pixels: crop(image, w, bands, t, scale: 2)) }
            XCTAssertEqual(dir.entries.count, 2, "the output and one temporary strip file")
            XCTAssertThrowsError(try partial.finish(to: dir.file("never.png"), overwrite: false))
        }
        XCTAssertEqual(dir.entries, ["big.png"])
    }

    func testTileSeedsDependOnPositionOnly() throws {
        let a = try TileGrid(imageSize: ImageSize(width: 300, height: 300), tileSize: 128, overlap: 16)
        let seeds = a.tiles.map { $0.seed(base: 42) }
        XCTAssertEqual(Set(seeds).count, seeds.count, "distinct per tile")
        XCTAssertEqual(a.tiles.map { $0.seed(base: 42) }, seeds, "stable")
        XCTAssertNotEqual(a.tiles[0].seed(base: 43), seeds[0])
        // Pinned value: the formula is a reproducibility contract.
        var p = SplitMix64(seed: 0)
        var m = SplitMix64(seed: 42 ^ p.next())
        XCTAssertEqual(a.tiles[0].seed(base: 42), m.next())
        XCTAssertEqual(a.tiles[0].seed(base: 42), 5_592_132_763_777_985_307, "pinned, computed independently in Python")
        XCTAssertGreaterThanOrEqual(Imaging.trackedMemory.peak, Imaging.trackedMemory.current)
    }

    func testRowBandReaderStreamsASequentialLoad() throws {
        let dir = try TempDir()
        for (source, ext) in [(try Pictures.rgb16(width: 70, height: 700), "png"), (try Pictures.rgb8(width: 70, height: 700), "tif"),
                              (try Pictures.rgb8(width: 70, height: 700), "jpg"), (try Pictures.rgb8(width: 70, height: 700), "webp")] {
            let path = dir.file("in.\(ext)")
            try source.write(to: path, overwrite: false)
            let decoded = try VipsImage.load(path: path)
            let all: [Float] = decoded.format == .ushort ? try decoded.shorts().map { Float($0) } : try decoded.bytes().map { Float($0) }
            let lazy = try VipsImage.load(path: path, mode: .sequential)
            let grid = try TileGrid(imageSize: source.size, tileSize: 48, overlap: 8)
            let reader = try RowBandReader(image: lazy, grid: grid)
            for row in 0 ..< grid.rows {
                for t in grid.tiles(inRow: row).reversed() {  // any order within a row
                    XCTAssertEqual(try reader.pixels(of: t), crop(all, 70, 3, t, scale: 1), "\(ext) tile \(t.index)")
                }
            }
            XCTAssertThrowsError(try reader.pixels(of: grid.tiles[0]), "rows go forward only")
        }
    }

    func crop(_ image: [Float], _ w: Int, _ bands: Int, _ t: Tile, scale: Int) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(t.output.width * t.output.height * bands)
        for y in 0 ..< t.output.height {
            for x in 0 ..< t.output.width {
                let sx = t.input.x + x / scale, sy = t.input.y + y / scale
                out += image[(sy * w + sx) * bands ..< (sy * w + sx + 1) * bands]
            }
        }
        return out
    }
}

/// The whole output a `TileAssembler` lends, region by region, placed where each region belongs: what a
/// consumer such as `StripFileSink` ends up with, in memory, for comparing runs.
struct AssembledOutput {
    let width: Int
    let bands: Int
    private(set) var values: [Float]

    init(_ grid: TileGrid, bands: Int) {
        width = grid.outputSize.width
        self.bands = bands
        values = [Float](repeating: .nan, count: grid.outputSize.width * grid.outputSize.height * bands)
    }

    mutating func place(_ r: FinishedRegion) {
        for y in 0 ..< r.height {
            for i in 0 ..< r.width * r.bands {
                values[((r.y + y) * width + r.x) * bands + i] = r.samples[y * r.rowStride + i]
            }
        }
    }
}
