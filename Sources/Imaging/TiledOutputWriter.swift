/// Streams a tiled result to an image file: tiles are blended by a `TileAssembler`, final regions go to a
/// `StripFileSink` (a temporary raw file next to the output), and `finish` encodes that into the destination
/// atomically. Memory stays at the assembler's shared rows and one tile window: the sink quantises the regions
/// the assembler lends it straight into their place in the file. Dropping the writer before `finish`
/// (cancellation) deletes the temporary file and leaves nothing at the destination.
public final class TiledOutputWriter {
    public let grid: TileGrid
    private var assembler: TileAssembler
    private let sink: StripFileSink

    /// - Parameters:
    ///   - bands: samples per pixel of the tile results and the output.
    ///   - format: `.uchar` or `.ushort`; tile values are in that format's scale (0…255 or 0…65535).
    ///   - directory: where the temporary strips live; use the output's folder so the data stays on one disk.
    public init(grid: TileGrid, bands: Int, format: PixelFormat, directory: String,
                interpretation: Interpretation? = nil) throws {
        self.grid = grid
        assembler = try TileAssembler(grid: grid, bands: bands)
        sink = try StripFileSink(directory: directory, width: grid.outputSize.width, height: grid.outputSize.height,
                                 bands: bands, format: format, interpretation: interpretation)
    }

    public var isComplete: Bool { assembler.isComplete }

    /// Adds one tile's interleaved result (tile.output.width × height × bands values).
    public func add(_ tile: Tile, pixels: [Float]) throws {
        try assembler.add(tile, pixels: pixels) { try sink.write($0) }
    }

    /// Adds one tile's planar result (a [1, bands, h, w] tensor's values), scaled by `multiplier`.
    public func add(_ tile: Tile, planes: [Float], multiplier: Float = 1) throws {
        try assembler.add(tile, planes: planes, multiplier: multiplier) { try sink.write($0) }
    }

    /// The assembled image (lazy, read from the temporary file): valid while this writer is alive.
    public func image() throws -> VipsImage { try sink.image() }

    /// Optionally transforms the assembled image (e.g. an exact final resize), then writes it atomically.
    public func finish(to path: String, overwrite: Bool, options: EncodeOptions = EncodeOptions(),
                       transform: (VipsImage) throws -> VipsImage = { $0 }) throws {
        let result = try transform(try sink.image())
        try withExtendedLifetime(sink) { try result.write(to: path, overwrite: overwrite, options: options) }
    }
}
