/// A band of finished output rows, samples interleaved (row-major, `bands` per pixel), in the output's sample
/// scale (e.g. 0…255).
public struct OutputStrip: Equatable, Sendable {
    public let y: Int
    public let height: Int
    public let width: Int
    public let bands: Int
    public var values: [Float]
}

/// Blends tile results into finished output rows, one grid row at a time.
///
/// Tiles may be submitted in any order. A grid row is blended once all of its tiles are in, and rows are blended
/// in order, columns left to right, so every output sample is the same floating-point sum whatever the order of
/// submission (bit-identical results). Memory holds the submitted-but-unblended tiles plus one band of output
/// rows as tall as a tile, never the whole output.
public struct TileAssembler: Sendable {
    public let grid: TileGrid
    public let bands: Int
    private var pending: [Int: [Float]] = [:]
    private var nextRow = 0
    /// Accumulated weighted samples for output rows bufferY ..< bufferY + buffer.count / rowLength.
    private var buffer: [Float] = []
    private var bufferY = 0
    private var rowLength: Int { grid.outputSize.width * bands }

    public init(grid: TileGrid, bands: Int) throws {
        guard bands > 0 else { throw ImagingError.invalidArgument("a tile needs at least one band") }
        self.grid = grid
        self.bands = bands
    }

    public var isComplete: Bool { nextRow == grid.rows }

    /// Output rows currently buffered (for memory accounting).
    public var bufferedRows: Int { buffer.count / rowLength }

    /// Takes one tile's result: `pixels` interleaved over `tile.output` (width × height × bands). Returns the
    /// output strips this completes, top to bottom (possibly none).
    public mutating func add(_ tile: Tile, pixels: [Float]) throws -> [OutputStrip] {
        guard tile.index < grid.tiles.count, grid.tiles[tile.index] == tile else {
            throw ImagingError.invalidArgument("tile \(tile.index) does not belong to this grid")
        }
        let expected = tile.output.width * tile.output.height * bands
        guard pixels.count == expected else {
            throw ImagingError.invalidArgument("tile \(tile.index) has \(pixels.count) samples, expected \(expected) "
                + "(\(tile.output.width)x\(tile.output.height)x\(bands))")
        }
        guard tile.row >= nextRow, pending[tile.index] == nil else {
            throw ImagingError.invalidArgument("tile \(tile.index) was already submitted")
        }
        pending[tile.index] = pixels
        var strips: [OutputStrip] = []
        while nextRow < grid.rows, grid.tiles(inRow: nextRow).allSatisfy({ pending[$0.index] != nil }) {
            strips.append(blendRow(nextRow))
            nextRow += 1
        }
        return strips
    }

    /// Same as `add(_:pixels:)` for a planar (CHW, e.g. a [1, C, h, w] tensor's values) tile result, each value
    /// multiplied by `multiplier` (e.g. 255 for a network that outputs [0, 1]).
    public mutating func add(_ tile: Tile, planes: [Float], multiplier: Float = 1) throws -> [OutputStrip] {
        let plane = tile.output.width * tile.output.height
        guard planes.count == plane * bands else {
            throw ImagingError.invalidArgument("tile \(tile.index) has \(planes.count) values, expected \(plane * bands) "
                + "(\(bands) planes of \(tile.output.width)x\(tile.output.height))")
        }
        var interleaved = [Float](repeating: 0, count: planes.count)
        for b in 0 ..< bands {
            for i in 0 ..< plane { interleaved[i * bands + b] = planes[b * plane + i] * multiplier }
        }
        return try add(tile, pixels: interleaved)
    }

    private mutating func blendRow(_ row: Int) -> OutputStrip {
        let rowTiles = grid.tiles(inRow: row)
        let top = rowTiles.first!.output.y  // a grid row always has at least one tile
        let bottom = top + rowTiles.first!.output.height
        let needed = (bottom - bufferY) * rowLength
        if buffer.count < needed { buffer += [Float](repeating: 0, count: needed - buffer.count) }
        let width = rowLength
        let bands = self.bands
        for tile in rowTiles {
            guard let pixels = pending.removeValue(forKey: tile.index) else { continue }
            let wx = grid.horizontalWeights(column: tile.column)
            let wy = grid.verticalWeights(row: tile.row)
            let outW = tile.output.width
            buffer.withUnsafeMutableBufferPointer { acc in
                pixels.withUnsafeBufferPointer { src in
                    for y in 0 ..< tile.output.height {
                        let accRow = (tile.output.y + y - bufferY) * width + tile.output.x * bands
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
        }
        let finished = grid.finishedOutputRows(afterRow: row)
        let count = (finished.upperBound - bufferY) * rowLength
        let strip = OutputStrip(y: bufferY, height: finished.upperBound - bufferY, width: grid.outputSize.width,
                                bands: bands, values: Array(buffer[0 ..< count]))
        buffer.removeFirst(count)
        bufferY = finished.upperBound
        return strip
    }
}
