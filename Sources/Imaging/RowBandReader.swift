/// Reads the input of a tiled job one band of rows at a time, so a sequentially loaded image (`LoadMode
/// .sequential`) is decoded top to bottom exactly once and only one tile row's worth of input rows is in memory.
/// Tiles must be requested row by row (any order within a row); rows shared by overlapping grid rows are kept.
/// With `context` > 0 each tile is read with that many extra pixels on every side (clipped at the image edge),
/// for networks whose result near a tile border depends on pixels beyond it (see `contextRect(of:)`).
/// Rows are decoded in strips of `stripHeight` aligned to multiples of it: libvips' sequential loaders decode
/// ahead in fixed blocks (TIFF strips, PNG/JPEG line caches), and a new read that starts inside a block they have
/// already passed fails with "out of order read". 128 rows suits PNG, JPEG, WebP and the TIFFs we write.
public final class RowBandReader {
    public static let stripHeight = 128
    public let image: VipsImage
    public let grid: TileGrid
    /// Extra input pixels read around each tile, on every side where the image has them.
    public let context: Int
    private var band: [Float] = []
    private var bandY = 0
    private var bandRows = 0
    private var currentRow = -1
    private var rowLength: Int { image.width * image.bands }

    public init(image: VipsImage, grid: TileGrid, context: Int = 0) throws {
        guard context >= 0 else { throw ImagingError.invalidArgument("tile context must be 0 or more, got \(context)") }
        guard image.size == grid.imageSize else {
            throw ImagingError.sizeMismatch(what: "the tiled image", expected: grid.imageSize, actual: image.size)
        }
        guard image.format == .uchar || image.format == .ushort || image.format == .float else {
            throw ImagingError.invalidArgument("tiles need 8-bit, 16-bit or float samples, got \(image.bitDepth)-bit")
        }
        self.image = image
        self.grid = grid
        self.context = context
    }

    /// The input a tile is read with: its own input grown by `context` on each side, clipped to the image.
    public func contextRect(of tile: Tile) -> PixelRect {
        PixelRect(x: tile.input.x - context, y: tile.input.y - context, width: tile.input.width + 2 * context,
                  height: tile.input.height + 2 * context)
            .intersection(PixelRect(x: 0, y: 0, width: image.width, height: image.height))
    }

    /// The pixels of `contextRect(of: tile)` (just the tile's input when `context` is 0), interleaved
    /// (width × height × bands), in the image's sample scale.
    public func pixels(of tile: Tile) throws -> [Float] {
        guard tile.index < grid.tiles.count, grid.tiles[tile.index] == tile else {
            throw ImagingError.invalidArgument("tile \(tile.index) does not belong to this grid")
        }
        guard tile.row >= currentRow else {
            throw ImagingError.invalidArgument("tile row \(tile.row) requested after row \(currentRow): read rows in order")
        }
        if tile.row > currentRow { try advance(to: tile.row) }
        let bands = image.bands
        let rect = contextRect(of: tile)
        var out = [Float](repeating: 0, count: rect.width * rect.height * bands)
        for y in 0 ..< rect.height {
            let source = (rect.y + y - bandY) * rowLength + rect.x * bands
            let target = y * rect.width * bands
            for i in 0 ..< rect.width * bands { out[target + i] = band[source + i] }
        }
        return out
    }

    private func advance(to row: Int) throws {
        let first = contextRect(of: grid.tile(column: 0, row: row))
        let top = first.y, bottom = first.maxY
        // Drop rows above the new band, keep the overlap, read only the rows not yet decoded.
        let keepFrom = max(0, top - bandY)
        let kept = max(0, bandRows - keepFrom)
        band.removeFirst(min(band.count, keepFrom * rowLength))
        let readFrom = bandY + bandRows
        bandY = top
        bandRows = kept
        if bottom > readFrom {
            let block = RowBandReader.stripHeight
            let alignedBottom = min(image.height, (bottom + block - 1) / block * block)
            let rect = PixelRect(x: 0, y: readFrom, width: image.width, height: alignedBottom - readFrom)
            let strip = try image.cropped(to: rect)
            band.reserveCapacity(band.count + rect.width * rect.height * image.bands)
            do {
                switch image.format {
                case .uchar: band.append(contentsOf: try strip.bytes().lazy.map { Float($0) })
                case .ushort: band.append(contentsOf: try strip.shorts().lazy.map { Float($0) })
                default: band += try strip.floats()
                }
            } catch ImagingError.operationFailed(_, let detail) {
                // A sequential load decodes here, tiles after the header was accepted: a file damaged or
                // truncated below its first rows fails now, and that is the input's fault, not an operation's.
                throw ImagingError.decodeFailed(source: "the input's rows \(rect.y)..<\(rect.maxY)", detail: detail)
            }
            bandRows += rect.height
        }
        currentRow = row
    }
}
