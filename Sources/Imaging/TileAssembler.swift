import Glibc

/// A band of finished output rows, samples interleaved (row-major, `bands` per pixel), in the output's sample
/// scale (e.g. 0…255). An owned copy, for callers that want whole rows; the streaming path uses
/// `FinishedRegion`.
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

    /// Lends the values as a full-width `FinishedRegion` (e.g. to a `StripFileSink`).
    public func withRegion<R>(_ body: (FinishedRegion) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { samples in
            try body(FinishedRegion(x: 0, y: y, width: width, height: height, bands: bands,
                                    rowStride: width * bands, samples: samples))
        }
    }
}

/// A rectangle of final output samples lent by a `TileAssembler` to its consumer: a view of the assembler's own
/// buffers, valid only inside the callback it is passed to. Lending instead of copying keeps a wide output from
/// needing a second band-sized float buffer.
public struct FinishedRegion {
    public let x: Int
    public let y: Int
    public let width: Int
    public let height: Int
    public let bands: Int
    /// Samples from one row of the region to the next in `samples`.
    public let rowStride: Int
    /// Row r, column c, band b of the region is samples[r * rowStride + c * bands + b].
    public let samples: UnsafeBufferPointer<Float>

    public init(x: Int, y: Int, width: Int, height: Int, bands: Int, rowStride: Int, samples: UnsafeBufferPointer<Float>) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
        self.bands = bands
        self.rowStride = rowStride
        self.samples = samples
    }

    public var isEmpty: Bool { width <= 0 || height <= 0 }
}

/// Blends tile results into final output samples, one grid row at a time, holding as little as it can.
///
/// Order: tiles may be submitted in any order. They are blended in canonical (index, i.e. row-major) order: a
/// tile that is the next one is blended at once, one that arrives early waits until all tiles before it are in.
/// So every output sample is the same floating-point sum, added in the same order, whatever the order of
/// submission (bit-identical results).
///
/// Memory: output rows that two grid rows share (the vertical overlaps) are accumulated in full-width float
/// rows, carried from one grid row to the next; rows that only the current grid row touches are accumulated in
/// a window one tile wide, and lent to the consumer column range by column range as soon as the tiles to their
/// right can no longer touch them. The shared rows are lent when their grid row ends. So a 12000-wide ×4
/// output at tile 128 / overlap 16 holds about 2 × 64 full-width rows plus one 512² tile window, not a band of
/// 512 full-width rows — plus the tiles submitted ahead of the canonical order (none when tiles come in order).
///
/// Regions are lent in no particular row order (a column range of a grid row's own rows comes before the
/// shared rows above it); `finishedRows` tells which rows are complete.
public struct TileAssembler: Sendable {
    public let grid: TileGrid
    public let bands: Int
    /// Tiles submitted before their turn, interleaved and already multiplied, by index.
    private var pending: [Int: [Float]] = [:]
    /// Index of the next tile to blend (canonical order).
    private var nextIndex = 0
    /// Every output row above this one has been lent in full.
    public private(set) var finishedRows = 0
    private let tileWidth: Int
    private let tileHeight: Int
    private let sharedCapacity: Int
    private let exclusiveCapacity: Int
    /// Full-width float rows for the current grid row's shared rows (see `slot`), allocated on first use.
    private var shared: [Float] = []
    /// The current grid row's own rows, tileWidth columns from `windowX`, allocated on first use.
    private var window: [Float] = []
    private var windowX = 0
    private var rowLength: Int { grid.outputSize.width * bands }

    public init(grid: TileGrid, bands: Int) throws {
        guard bands > 0 else { throw ImagingError.invalidArgument("a tile needs at least one band") }
        self.grid = grid
        self.bands = bands
        tileWidth = grid.tiles[0].output.width
        tileHeight = grid.tiles[0].output.height
        var sharedRows = 0, exclusiveRows = 0
        for row in 0 ..< grid.rows {
            let own = TileAssembler.exclusiveRows(grid, row: row)
            let top = grid.tile(column: 0, row: row).output.y
            sharedRows = max(sharedRows, (own.lowerBound - top) + (top + tileHeight - own.upperBound))
            exclusiveRows = max(exclusiveRows, own.count)
        }
        sharedCapacity = sharedRows
        exclusiveCapacity = exclusiveRows
    }

    public var isComplete: Bool { nextIndex == grid.tiles.count }

    /// Output rows held as float (shared rows plus the tile window's rows), for memory accounting.
    public var bufferedRows: Int { sharedCapacity + exclusiveCapacity * tileWidth / grid.outputSize.width }

    /// Tiles held back because they arrived before their turn (for memory accounting).
    public var pendingTiles: Int { pending.count }

    /// Output rows only grid row `row` touches: after the previous row's tiles end, before the next row's start
    /// (empty, at the tile bottom, when the neighbours overlap each other).
    static func exclusiveRows(_ grid: TileGrid, row: Int) -> Range<Int> {
        let h = grid.tiles[0].output.height
        let top = grid.tile(column: 0, row: row).output.y, bottom = top + h
        let lower = row > 0 ? max(top, grid.tile(column: 0, row: row - 1).output.y + h) : top
        let upper = row + 1 < grid.rows ? min(bottom, grid.tile(column: 0, row: row + 1).output.y) : bottom
        return lower < upper ? lower ..< upper : bottom ..< bottom
    }

    /// Takes one tile's result: `pixels` interleaved over `tile.output` (width × height × bands). Lends `emit`
    /// the regions this makes final (possibly none).
    public mutating func add(_ tile: Tile, pixels: [Float], emit: (FinishedRegion) throws -> Void) throws {
        try check(tile)
        let expected = tile.output.width * tile.output.height * bands
        guard pixels.count == expected else {
            throw ImagingError.invalidArgument("tile \(tile.index) has \(pixels.count) samples, expected \(expected) "
                + "(\(tile.output.width)x\(tile.output.height)x\(bands))")
        }
        if tile.index == nextIndex {
            pixels.withUnsafeBufferPointer { blend(tile, interleaved: $0, planes: nil, multiplier: 1) }
            try advance(emit: emit)
        } else {
            pending[tile.index] = pixels
        }
    }

    /// Same as `add(_:pixels:emit:)` for a planar (CHW, e.g. a [1, C, h, w] tensor's values) tile result, each
    /// value multiplied by `multiplier` (e.g. 255 for a network that outputs [0, 1]).
    public mutating func add(_ tile: Tile, planes: [Float], multiplier: Float = 1,
                             emit: (FinishedRegion) throws -> Void) throws {
        try check(tile)
        let plane = tile.output.width * tile.output.height
        guard planes.count == plane * bands else {
            throw ImagingError.invalidArgument("tile \(tile.index) has \(planes.count) values, expected \(plane * bands) "
                + "(\(bands) planes of \(tile.output.width)x\(tile.output.height))")
        }
        if tile.index == nextIndex {
            planes.withUnsafeBufferPointer { blend(tile, interleaved: nil, planes: $0, multiplier: multiplier) }
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

    private func check(_ tile: Tile) throws {
        guard tile.index < grid.tiles.count, grid.tiles[tile.index] == tile else {
            throw ImagingError.invalidArgument("tile \(tile.index) does not belong to this grid")
        }
        guard tile.index >= nextIndex, pending[tile.index] == nil else {
            throw ImagingError.invalidArgument("tile \(tile.index) was already submitted")
        }
    }

    /// After the tile at `nextIndex` was blended: lends what it finished, then blends whatever held-back tiles
    /// are now next.
    private mutating func advance(emit: (FinishedRegion) throws -> Void) throws {
        while true {
            let tile = grid.tiles[nextIndex]
            nextIndex += 1
            try finishColumns(after: tile, emit: emit)
            if tile.column == grid.columns - 1 { try finishRow(tile.row, emit: emit) }
            guard nextIndex < grid.tiles.count, let held = pending.removeValue(forKey: nextIndex) else { return }
            held.withUnsafeBufferPointer { blend(grid.tiles[nextIndex], interleaved: $0, planes: nil, multiplier: 1) }
        }
    }

    /// Where output row `y` of grid row `row` lives in `shared`: its own rows are skipped.
    private func slot(_ y: Int, row: Int, own: Range<Int>) -> Int {
        let top = grid.tile(column: 0, row: row).output.y
        return y < own.lowerBound ? y - top : (own.lowerBound - top) + (y - own.upperBound)
    }

    private mutating func blend(_ tile: Tile, interleaved: UnsafeBufferPointer<Float>?, planes: UnsafeBufferPointer<Float>?,
                                multiplier: Float) {
        if shared.isEmpty, sharedCapacity > 0 { shared = [Float](repeating: 0, count: sharedCapacity * rowLength) }
        if window.isEmpty, exclusiveCapacity > 0 { window = [Float](repeating: 0, count: exclusiveCapacity * tileWidth * bands) }
        let wx = grid.horizontalWeights(column: tile.column), wy = grid.verticalWeights(row: tile.row)
        let own = Self.exclusiveRows(grid, row: tile.row)
        let rowLength = self.rowLength, bands = self.bands, outW = tile.output.width, plane = outW * tile.output.height
        let windowRow = tileWidth * bands, windowOffset = (tile.output.x - windowX) * bands
        var rowBase: [Int] = []   // per tile row: offset in shared (>= 0) or -1 - offset in window
        for y in 0 ..< tile.output.height {
            let absolute = tile.output.y + y
            if own.contains(absolute) {
                rowBase.append(-1 - ((absolute - own.lowerBound) * windowRow + windowOffset))
            } else {
                rowBase.append(slot(absolute, row: tile.row, own: own) * rowLength + tile.output.x * bands)
            }
        }
        shared.withUnsafeMutableBufferPointer { sharedBuffer in
            window.withUnsafeMutableBufferPointer { windowBuffer in
                for y in 0 ..< tile.output.height {
                    let base = rowBase[y]
                    guard let origin = base >= 0 ? sharedBuffer.baseAddress.map({ $0 + base })
                        : windowBuffer.baseAddress.map({ $0 + (-1 - base) }) else { continue }
                    if let src = interleaved {
                        let srcRow = y * outW * bands
                        for x in 0 ..< outW {
                            let w = wx[x] * wy[y]
                            for b in 0 ..< bands { origin[x * bands + b] += w * src[srcRow + x * bands + b] }
                        }
                    } else if let src = planes {
                        let srcRow = y * outW
                        for x in 0 ..< outW {
                            let w = wx[x] * wy[y]
                            for b in 0 ..< bands { origin[x * bands + b] += w * (src[b * plane + srcRow + x] * multiplier) }
                        }
                    }
                }
            }
        }
    }

    /// After `tile`: the window's columns left of the next tile in the row are final — lend them, then move the
    /// overlap with the next tile to the window's left edge.
    private mutating func finishColumns(after tile: Tile, emit: (FinishedRegion) throws -> Void) throws {
        let own = Self.exclusiveRows(grid, row: tile.row)
        let nextX = tile.column + 1 < grid.columns ? grid.tile(column: tile.column + 1, row: tile.row).output.x
            : grid.outputSize.width
        let windowRow = tileWidth * bands, bands = self.bands, x0 = windowX
        if !own.isEmpty, nextX > x0 {
            try window.withUnsafeBufferPointer { w in
                try emit(FinishedRegion(x: x0, y: own.lowerBound, width: nextX - x0, height: own.count, bands: bands,
                                        rowStride: windowRow, samples: w))
            }
        }
        let shift = (nextX - x0) * bands, kept = max(0, windowRow - shift)
        window.withUnsafeMutableBufferPointer { w in
            guard let base = w.baseAddress else { return }
            for r in 0 ..< own.count {
                let row = base + r * windowRow
                // memmove: the kept columns may overlap their new place.
                if kept > 0 { memmove(row, row + shift, kept * MemoryLayout<Float>.stride) }
                (row + kept).update(repeating: 0, count: windowRow - kept)
            }
        }
        windowX = tile.column + 1 < grid.columns ? nextX : 0
    }

    /// At the end of grid row `row`: lends its shared rows that no later row touches, then moves the rows the
    /// next grid row shares up to the top of `shared` and clears the rest.
    private mutating func finishRow(_ row: Int, emit: (FinishedRegion) throws -> Void) throws {
        let own = Self.exclusiveRows(grid, row: row)
        let top = grid.tile(column: 0, row: row).output.y, bottom = top + tileHeight
        let end = grid.finishedOutputRows(afterRow: row).upperBound
        let finishedShared = min(own.lowerBound, end) - top
        let (width, bands, rowLength) = (grid.outputSize.width, self.bands, self.rowLength)
        if finishedShared > 0 {
            try shared.withUnsafeBufferPointer { s in
                try emit(FinishedRegion(x: 0, y: top, width: width, height: finishedShared, bands: bands,
                                        rowStride: rowLength, samples: s))
            }
        }
        finishedRows = end
        if row == grid.rows - 1 {
            // Done: give the buffers back now, not when the owner goes (a writer lives on while libvips encodes).
            shared = []
            window = []
            return
        }
        let used = (own.lowerBound - top) + (bottom - own.upperBound)
        let from = end < bottom ? slot(end, row: row, own: own) : used
        let kept = (used - from) * rowLength
        shared.withUnsafeMutableBufferPointer { s in
            guard let base = s.baseAddress else { return }
            if kept > 0 { memmove(base, base + from * rowLength, kept * MemoryLayout<Float>.stride) }
            (base + kept).update(repeating: 0, count: s.count - kept)
        }
    }
}
