import Glibc

/// A band of finished output rows, samples interleaved (row-major, `bands` per pixel), in the output's sample
/// scale (e.g. 0…255). An owned copy, for callers that want one; the streaming path uses `FinishedRows`.
public struct OutputStrip: Equatable, Sendable {
    public let y: Int
    public let height: Int
    public let width: Int
    public let bands: Int
    public var values: [Float]

    public init(y: Int, height: Int, width: Int, bands: Int, values: [Float]) {
        self.y = y
        self.height = height
        self.width = width
        self.bands = bands
        self.values = values
    }

    public init(_ rows: FinishedRows) {
        self.init(y: rows.y, height: rows.height, width: rows.width, bands: rows.bands, values: Array(rows.samples))
    }

    /// Lends the values as `FinishedRows` (e.g. to a `StripFileSink`).
    public func withFinishedRows<R>(_ body: (FinishedRows) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { samples in
            try body(FinishedRows(y: y, height: height, width: width, bands: bands, samples: samples))
        }
    }
}

/// Finished output rows lent by a `TileAssembler` to its consumer: a view of the assembler's own band, valid
/// only inside the callback it is passed to (copy with `OutputStrip(_:)` to keep it). Lending instead of
/// copying keeps a wide output from needing a second band-sized float buffer.
public struct FinishedRows {
    public let y: Int
    public let height: Int
    public let width: Int
    public let bands: Int
    /// height × width × bands samples, interleaved, row-major.
    public let samples: UnsafeBufferPointer<Float>
}

/// Blends tile results into finished output rows, one grid row at a time.
///
/// Tiles may be submitted in any order. Tiles are blended in canonical (index, i.e. row-major) order: a tile
/// that is the next one is blended at once, one that arrives early waits until all tiles before it are in. So
/// every output sample is the same floating-point sum, added in the same order, whatever the order of submission
/// (bit-identical results). When the last tile of a grid row is blended, the output rows no later grid row
/// touches are final and are lent to the caller.
///
/// Memory: one band of accumulated output rows as tall as a tile (a fixed buffer; only the rows shared with the
/// next grid row are moved up after each row), plus the tiles submitted ahead of the canonical order — none when
/// tiles come in order, as they do from a sequential job. Never the whole output.
public struct TileAssembler: Sendable {
    public let grid: TileGrid
    public let bands: Int
    /// Tiles submitted before their turn, interleaved and already multiplied, by index.
    private var pending: [Int: [Float]] = [:]
    /// Index of the next tile to blend (canonical order).
    private var nextIndex = 0
    /// Accumulated weighted samples for output rows bufferY ..< bufferY + bandRows (allocated on first use).
    private var buffer: [Float] = []
    private var bufferY = 0
    private var rowLength: Int { grid.outputSize.width * bands }
    /// Output rows one grid row touches: the tile height in output pixels.
    private var bandRows: Int { grid.tiles[0].output.height }

    public init(grid: TileGrid, bands: Int) throws {
        guard bands > 0 else { throw ImagingError.invalidArgument("a tile needs at least one band") }
        self.grid = grid
        self.bands = bands
    }

    public var isComplete: Bool { nextIndex == grid.tiles.count }

    /// Output rows the band buffer holds (for memory accounting).
    public var bufferedRows: Int { buffer.count / rowLength }

    /// Tiles held back because they arrived before their turn (for memory accounting).
    public var pendingTiles: Int { pending.count }

    /// Takes one tile's result: `pixels` interleaved over `tile.output` (width × height × bands). Calls `emit`
    /// with the output rows this completes, top to bottom (possibly none).
    public mutating func add(_ tile: Tile, pixels: [Float], emit: (FinishedRows) throws -> Void) throws {
        try check(tile)
        let expected = tile.output.width * tile.output.height * bands
        guard pixels.count == expected else {
            throw ImagingError.invalidArgument("tile \(tile.index) has \(pixels.count) samples, expected \(expected) "
                + "(\(tile.output.width)x\(tile.output.height)x\(bands))")
        }
        if tile.index == nextIndex {
            pixels.withUnsafeBufferPointer { blend(tile, interleaved: $0) }
            try advance(emit: emit)
        } else {
            pending[tile.index] = pixels
        }
    }

    /// Same as `add(_:pixels:emit:)` for a planar (CHW, e.g. a [1, C, h, w] tensor's values) tile result, each
    /// value multiplied by `multiplier` (e.g. 255 for a network that outputs [0, 1]).
    public mutating func add(_ tile: Tile, planes: [Float], multiplier: Float = 1,
                             emit: (FinishedRows) throws -> Void) throws {
        try check(tile)
        let plane = tile.output.width * tile.output.height
        guard planes.count == plane * bands else {
            throw ImagingError.invalidArgument("tile \(tile.index) has \(planes.count) values, expected \(plane * bands) "
                + "(\(bands) planes of \(tile.output.width)x\(tile.output.height))")
        }
        if tile.index == nextIndex {
            planes.withUnsafeBufferPointer { blend(tile, planes: $0, multiplier: multiplier) }
            try advance(emit: emit)
        } else {
            // Held as interleaved products, the very values the in-order path adds (p · multiplier, then · weight).
            var interleaved = [Float](repeating: 0, count: planes.count)
            for b in 0 ..< bands {
                for i in 0 ..< plane { interleaved[i * bands + b] = planes[b * plane + i] * multiplier }
            }
            pending[tile.index] = interleaved
        }
    }

    /// `add(_:pixels:emit:)` returning owned copies of the finished rows.
    public mutating func add(_ tile: Tile, pixels: [Float]) throws -> [OutputStrip] {
        var strips: [OutputStrip] = []
        try add(tile, pixels: pixels) { strips.append(OutputStrip($0)) }
        return strips
    }

    /// `add(_:planes:multiplier:emit:)` returning owned copies of the finished rows.
    public mutating func add(_ tile: Tile, planes: [Float], multiplier: Float = 1) throws -> [OutputStrip] {
        var strips: [OutputStrip] = []
        try add(tile, planes: planes, multiplier: multiplier) { strips.append(OutputStrip($0)) }
        return strips
    }

    private func check(_ tile: Tile) throws {
        guard tile.index < grid.tiles.count, grid.tiles[tile.index] == tile else {
            throw ImagingError.invalidArgument("tile \(tile.index) does not belong to this grid")
        }
        guard tile.index >= nextIndex, pending[tile.index] == nil else {
            throw ImagingError.invalidArgument("tile \(tile.index) was already submitted")
        }
    }

    /// After the tile at `nextIndex` was blended: finishes its grid row if it was the row's last, then blends
    /// whatever held-back tiles are now next.
    private mutating func advance(emit: (FinishedRows) throws -> Void) throws {
        while true {
            let tile = grid.tiles[nextIndex]
            nextIndex += 1
            if tile.column == grid.columns - 1 { try finishRow(tile.row, emit: emit) }
            guard nextIndex < grid.tiles.count, let held = pending.removeValue(forKey: nextIndex) else { return }
            held.withUnsafeBufferPointer { blend(grid.tiles[nextIndex], interleaved: $0) }
        }
    }

    private mutating func prepareBuffer() {
        if buffer.isEmpty { buffer = [Float](repeating: 0, count: bandRows * rowLength) }
    }

    private mutating func blend(_ tile: Tile, interleaved src: UnsafeBufferPointer<Float>) {
        prepareBuffer()
        let wx = grid.horizontalWeights(column: tile.column), wy = grid.verticalWeights(row: tile.row)
        let width = rowLength, bands = self.bands, outW = tile.output.width
        let top = tile.output.y - bufferY
        buffer.withUnsafeMutableBufferPointer { acc in
            for y in 0 ..< tile.output.height {
                let accRow = (top + y) * width + tile.output.x * bands
                let srcRow = y * outW * bands
                for x in 0 ..< outW {
                    let w = wx[x] * wy[y]
                    for b in 0 ..< bands {
                        acc[accRow + x * bands + b] += w * src[srcRow + x * bands + b]
                    }
                }
            }
        }
    }

    /// Same sums as `blend(_:interleaved:)` of the interleaved products, read straight from the planes.
    private mutating func blend(_ tile: Tile, planes src: UnsafeBufferPointer<Float>, multiplier: Float) {
        prepareBuffer()
        let wx = grid.horizontalWeights(column: tile.column), wy = grid.verticalWeights(row: tile.row)
        let width = rowLength, bands = self.bands, outW = tile.output.width
        let plane = outW * tile.output.height
        let top = tile.output.y - bufferY
        buffer.withUnsafeMutableBufferPointer { acc in
            for y in 0 ..< tile.output.height {
                let accRow = (top + y) * width + tile.output.x * bands
                let srcRow = y * outW
                for x in 0 ..< outW {
                    let w = wx[x] * wy[y]
                    for b in 0 ..< bands {
                        acc[accRow + x * bands + b] += w * (src[b * plane + srcRow + x] * multiplier)
                    }
                }
            }
        }
    }

    /// Lends the rows grid row `row` finished, then moves the rows the next grid row shares up to the top of the
    /// buffer and clears the rest.
    private mutating func finishRow(_ row: Int, emit: (FinishedRows) throws -> Void) throws {
        prepareBuffer()
        let end = grid.finishedOutputRows(afterRow: row).upperBound
        let finished = end - bufferY
        let (y, width, bands) = (bufferY, grid.outputSize.width, self.bands)
        try buffer.withUnsafeBufferPointer { all in
            let samples = UnsafeBufferPointer(rebasing: all[0 ..< finished * rowLength])
            try emit(FinishedRows(y: y, height: finished, width: width, bands: bands, samples: samples))
        }
        let kept = max(0, bandRows - finished) * rowLength
        let moved = finished * rowLength
        buffer.withUnsafeMutableBufferPointer { acc in
            guard let base = acc.baseAddress else { return }
            // memmove: the kept rows may overlap their new place when a grid row is shorter than its overlap.
            if kept > 0 { memmove(base, base + moved, kept * MemoryLayout<Float>.stride) }
            (base + kept).update(repeating: 0, count: acc.count - kept)
        }
        bufferY = end
    }
}
