import Glibc

/// One tile of a `TileGrid`: the input region it reads and the output region it produces.
public struct Tile: Equatable, Hashable, Sendable {
    /// Row-major position in the grid (row * columns + column).
    public let index: Int
    public let column: Int
    public let row: Int
    /// The input pixels the tile reads (always inside the image; full tile size unless the image is smaller).
    public let input: PixelRect
    /// Where its result lands in the output: `input` scaled by the grid's scale.
    public let output: PixelRect
}

extension Tile {
    /// A per-tile seed derived only from the base seed and the tile's input position (not its index or the
    /// processing order), so a tile can be redone alone with the same noise:
    /// SplitMix64(seed: base ^ SplitMix64(seed: x << 32 | y).next()).next(). This formula is part of the
    /// reproducibility contract: do not change it.
    public func seed(base: UInt64) -> UInt64 {
        var position = SplitMix64(seed: UInt64(UInt32(truncatingIfNeeded: input.x)) << 32
            | UInt64(UInt32(truncatingIfNeeded: input.y)))
        var mixed = SplitMix64(seed: base ^ position.next())
        return mixed.next()
    }
}

/// Overlapping tiles covering an image, shared by tiled upscaling and border-window outpainting.
///
/// Tiles along an axis have the full tile size and are spread evenly from edge to edge (the first starts at 0,
/// the last ends at the border), using the fewest tiles whose overlap is at least the requested one. The grid is
/// a pure function of (image size, tile size, overlap, scale): any tile can be recomputed alone and lands in the
/// same place with the same weights.
///
/// Blend weights are separable: per axis, each tile has a raised-cosine ramp across each overlap with a
/// neighbour (value strictly between 0 and 1 there, 1 elsewhere), and the ramps are normalised so the weights of
/// all tiles covering a coordinate sum to 1. The 2-D weight is the product of the two axes' weights, so the
/// weights of all tiles sum to 1 at every output pixel and overlapping tiles fade into each other without seams.
public struct TileGrid: Equatable, Sendable {
    public let imageSize: ImageSize
    public let tileSize: ImageSize
    public let overlap: Int
    public let scale: Int
    public let columns: Int
    public let rows: Int
    /// Row-major.
    public let tiles: [Tile]
    /// Per column, the weight of each output x across that tile's output width.
    private let columnWeights: [[Float]]
    /// Per row, the weight of each output y across that tile's output height.
    private let rowWeights: [[Float]]

    public var outputSize: ImageSize { ImageSize(width: imageSize.width * scale, height: imageSize.height * scale) }

    /// - Parameters:
    ///   - tileSize: tile side in input pixels (tiles are square unless the image is smaller).
    ///   - overlap: minimum overlap between neighbouring tiles, in input pixels; at most half the tile size.
    ///   - scale: output pixels per input pixel (the upscaler's factor; 1 for same-size processing).
    public init(imageSize: ImageSize, tileSize: Int, overlap: Int, scale: Int = 1) throws {
        guard imageSize.width > 0, imageSize.height > 0 else {
            throw ImagingError.invalidArgument("cannot tile an empty \(imageSize) image")
        }
        guard tileSize > 0, overlap >= 0, 2 * overlap <= tileSize, scale >= 1 else {
            throw ImagingError.invalidArgument(
                "tile \(tileSize) with overlap \(overlap) and scale \(scale): need tile > 0, 0 <= overlap <= tile/2, scale >= 1")
        }
        self.imageSize = imageSize
        self.overlap = overlap
        self.scale = scale
        let xs = TileGrid.positions(length: imageSize.width, tile: tileSize, overlap: overlap)
        let ys = TileGrid.positions(length: imageSize.height, tile: tileSize, overlap: overlap)
        let tileW = min(tileSize, imageSize.width), tileH = min(tileSize, imageSize.height)
        self.tileSize = ImageSize(width: tileW, height: tileH)
        columns = xs.count
        rows = ys.count
        var tiles: [Tile] = []
        for (r, y) in ys.enumerated() {
            for (c, x) in xs.enumerated() {
                let input = PixelRect(x: x, y: y, width: tileW, height: tileH)
                let output = PixelRect(x: x * scale, y: y * scale, width: tileW * scale, height: tileH * scale)
                tiles.append(Tile(index: tiles.count, column: c, row: r, input: input, output: output))
            }
        }
        self.tiles = tiles
        columnWeights = TileGrid.axisWeights(starts: xs.map { $0 * scale }, length: tileW * scale)
        rowWeights = TileGrid.axisWeights(starts: ys.map { $0 * scale }, length: tileH * scale)
    }

    public func tile(column: Int, row: Int) -> Tile { tiles[row * columns + column] }

    /// Tiles of one grid row, left to right.
    public func tiles(inRow row: Int) -> ArraySlice<Tile> { tiles[row * columns ..< (row + 1) * columns] }

    /// Tiles whose input overlaps `rect` (e.g. the new area of an outpaint canvas), in index order.
    public func tiles(intersecting rect: PixelRect) -> [Tile] {
        tiles.filter { !$0.input.intersection(rect).isEmpty }
    }

    /// Weights of `tile` over its output rectangle, row-major (output width × output height).
    public func weights(for tile: Tile) -> [Float] {
        let wx = columnWeights[tile.column], wy = rowWeights[tile.row]
        var out = [Float](repeating: 0, count: wx.count * wy.count)
        for y in 0 ..< wy.count { for x in 0 ..< wx.count { out[y * wx.count + x] = wx[x] * wy[y] } }
        return out
    }

    public func horizontalWeights(column: Int) -> [Float] { columnWeights[column] }
    public func verticalWeights(row: Int) -> [Float] { rowWeights[row] }

    /// Output rows that are final once grid rows 0...row have been blended: from the end of the previous band to
    /// the first output row the next grid row touches (the output bottom after the last row).
    public func finishedOutputRows(afterRow row: Int) -> Range<Int> {
        let lower = row == 0 ? 0 : tile(column: 0, row: row).output.y
        let end = row + 1 < rows ? tile(column: 0, row: row + 1).output.y : outputSize.height
        return lower ..< end
    }

    /// Start offsets along one axis: the fewest full-size tiles with at least `overlap` overlap, spread evenly.
    static func positions(length: Int, tile: Int, overlap: Int) -> [Int] {
        if length <= tile { return [0] }
        let stride = tile - overlap
        let count = 1 + Int((Double(length - tile) / Double(stride)).rounded(.up))
        let span = length - tile
        // Integer rounding of i * span / (count - 1): exact and platform-independent.
        return (0 ..< count).map { i in (2 * i * span + (count - 1)) / (2 * (count - 1)) }
    }

    /// Normalised raised-cosine weights per tile along one axis (output coordinates).
    static func axisWeights(starts: [Int], length: Int) -> [[Float]] {
        let n = starts.count
        // Raw windows: ramps strictly inside (0, 1) across each overlap with a neighbour.
        var raw: [[Double]] = []
        for i in 0 ..< n {
            var w = [Double](repeating: 1, count: length)
            if i > 0 {
                let overlapLength = starts[i - 1] + length - starts[i]
                for k in 0 ..< min(overlapLength, length) {
                    w[k] *= 0.5 - 0.5 * cos(Double.pi * (Double(k) + 0.5) / Double(overlapLength))
                }
            }
            if i < n - 1 {
                let overlapLength = starts[i] + length - starts[i + 1]
                for k in 0 ..< min(overlapLength, length) {
                    w[length - 1 - k] *= 0.5 - 0.5 * cos(Double.pi * (Double(k) + 0.5) / Double(overlapLength))
                }
            }
            raw.append(w)
        }
        // Normalise by the sum over every tile covering each coordinate (summed in index order).
        let total = (starts.last ?? 0) + length
        var sum = [Double](repeating: 0, count: total)
        for i in 0 ..< n { for k in 0 ..< length { sum[starts[i] + k] += raw[i][k] } }
        return (0 ..< n).map { i in (0 ..< length).map { k in Float(raw[i][k] / sum[starts[i] + k]) } }
    }
}
