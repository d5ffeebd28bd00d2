import Foundation
import Imaging
import Models
import Tensor

/// What a tiled upscale reports after each tile.
public struct UpscaleTileProgress: Sendable, Equatable {
    public let tile: Int      // 1-based, tiles finished so far
    public let tiles: Int
}

/// Upscales an image of any size with a network, by overlapping tiles, streaming.
///
/// Data flow: the input (ideally loaded with `LoadMode.sequential`) is read one band of tile rows at a time by a
/// `RowBandReader`; each tile runs through `TileUpscaling`; a `TiledOutputWriter` blends tiles with the grid's
/// raised-cosine weights and appends finished output rows to a raw temporary file next to the output; at the end
/// libvips encodes that file (resized to the exact requested size when it differs from the model's scale) into
/// the destination. Peak memory is the network's activations for one tile, the float output rows that
/// neighbouring grid rows share plus one tile-wide window (`TileAssembler`), and one band of input rows — it
/// depends on the tile size and the image width, never on the image height or the output's decoded size.
///
/// Cancellation: `checkCancelled` runs before every tile; when it throws, the temporary file is deleted and the
/// destination is never touched (libvips writes to a temporary name and renames only on success).
public struct TiledUpscaler {
    public let model: UpscalerModel
    public let tile: Int
    public let overlap: Int
    /// Input pixels of context each tile is run with beyond its own area on every side (clipped at the image
    /// edge) and cropped off after the network, so no blended output pixel comes from near a tile border,
    /// where the network saw zero padding instead of the image.
    public let pad: Int

    /// Defaults: 192-pixel tiles with 16 pixels of overlap keep RRDBNet ×4 activations around 300 MB and hide seams.
    public static let defaultTile = 192
    public static let defaultOverlap = 16

    public init(model: UpscalerModel, tile: Int = TiledUpscaler.defaultTile, overlap: Int = TiledUpscaler.defaultOverlap,
                pad: Int? = nil) throws {
        guard tile >= 16, tile <= 2048 else {
            throw UpscaleError.invalidParameter(field: "tile", reason: "must be between 16 and 2048 pixels, got \(tile)")
        }
        guard overlap >= 0, 2 * overlap <= tile else {
            throw UpscaleError.invalidParameter(field: "overlap", reason: "must be between 0 and half the tile (\(tile / 2)), got \(overlap)")
        }
        let pad = pad ?? Self.defaultPad(for: model.network)
        guard pad >= 0, pad <= Self.maxPad else {
            throw UpscaleError.invalidParameter(field: "tile_pad", reason: "must be between 0 and \(Self.maxPad) pixels, got \(pad)")
        }
        self.model = model
        self.tile = tile
        self.overlap = overlap
        self.pad = pad
    }

    public static let maxPad = 512

    /// The network's receptive radius, up to `padLimit`.
    public static func defaultPad(for network: any UpscalerNetwork) -> Int { defaultPad(receptiveRadius: network.receptiveRadius) }
    public static func defaultPad(receptiveRadius: Int) -> Int { min(receptiveRadius, padLimit) }
    public static let padLimit = 32

    /// The grid this upscaler uses on an image of `size`.
    public func grid(for size: ImageSize) throws -> TileGrid {
        try TileGrid(imageSize: size, tileSize: tile, overlap: overlap, scale: model.network.scale)
    }

    /// Runs the job and hands the finished (lazy) image to `deliver` — e.g. write it to a file — while the
    /// temporary strip file behind it still exists. `size` is the exact output size; nil = the model's
    /// declared scale (for the ncnn ×2/×3 exports, ×4 then a resize).
    public func upscale<R>(_ image: VipsImage, size: ImageSize? = nil, scratchDirectory: String,
                           progress: (UpscaleTileProgress) -> Void = { _ in },
                           checkCancelled: () throws -> Void = {},
                           deliver: (VipsImage) throws -> R) throws -> R {
        let bands = image.bands
        guard image.format == .uchar || image.format == .ushort else {
            throw UpscaleError.unsupportedImage(detail: "\(image.bitDepth)-bit samples (8- and 16-bit are supported)")
        }
        guard bands >= 1, bands <= 4, bands != 4 || image.hasAlpha, bands != 2 || image.hasAlpha else {
            throw UpscaleError.unsupportedImage(detail: "\(bands) bands with \(image.interpretation) (grey or RGB, with or without alpha, are supported)")
        }
        let target = size ?? ImageSize(width: max(1, Int((Double(image.width) * model.declaredScale).rounded())),
                                       height: max(1, Int((Double(image.height) * model.declaredScale).rounded())))
        let grid = try self.grid(for: image.size)
        let step = TileUpscaling(network: model.network, inputBands: bands, maxValue: Float(image.format.maxValue))
        let writer = try TiledOutputWriter(grid: grid, bands: step.outputBands, format: image.format,
                                           directory: scratchDirectory)
        try runTiles(grid: grid, image: image, step: step, writer: writer, progress: progress,
                          checkCancelled: checkCancelled)
        // The network's cached activation buffers are not needed while libvips encodes the result.
        TensorBufferCache.purge()
        try checkCancelled()
        let assembled = try writer.image()
        let result = target == grid.outputSize ? assembled
            : try assembled.resized(width: target.width, height: target.height, kernel: .lanczos3)
        return try withExtendedLifetime(writer) { try deliver(result) }
    }

    /// Every tile through the network into the writer. The input band reader lives only here, so its rows are
    /// freed before the result is encoded.
    /// The part of a tile result computed over `read` (×`scale`, planar) that covers `kept`.
    static func crop(_ planes: [Float], bands: Int, from read: PixelRect, to kept: PixelRect, scale: Int) -> [Float] {
        if read == kept { return planes }
        let (rw, rh) = (read.width * scale, read.height * scale)
        let (kw, kh) = (kept.width * scale, kept.height * scale)
        let (dx, dy) = ((kept.x - read.x) * scale, (kept.y - read.y) * scale)
        var out = [Float](repeating: 0, count: bands * kw * kh)
        for b in 0 ..< bands {
            for y in 0 ..< kh {
                let source = b * rw * rh + (y + dy) * rw + dx, target = b * kw * kh + y * kw
                for x in 0 ..< kw { out[target + x] = planes[source + x] }
            }
        }
        return out
    }

    private func runTiles(grid: TileGrid, image: VipsImage, step: TileUpscaling, writer: TiledOutputWriter,
                                 progress: (UpscaleTileProgress) -> Void, checkCancelled: () throws -> Void) throws {
        let reader = try RowBandReader(image: image, grid: grid, context: pad)
        var lastSize: ImageSize?
        for (done, t) in grid.tiles.enumerated() {
            try checkCancelled()
            let pixels = try reader.pixels(of: t)
            let read = reader.contextRect(of: t)
            // Edge tiles have other sizes, so none of the buffers cached for the last size fit: kept, they
            // piled up to the cache's 512 MiB bound over a row of tiles (RRDBNet at tile 32: 970 MB, against
            // ~450 MB for one tile's activations), memory the admission estimate cannot see.
            if let lastSize, lastSize != read.size { TensorBufferCache.purge() }
            lastSize = read.size
            let planes = step.upscale(pixels: pixels, width: read.width, height: read.height)
            try writer.add(t, planes: Self.crop(planes, bands: step.outputBands, from: read, to: t.input, scale: grid.scale))
            progress(UpscaleTileProgress(tile: done + 1, tiles: grid.tiles.count))
        }
    }

    /// Upscales and writes to `path` atomically (format from the extension; `options` e.g. tiled/pyramidal TIFF).
    public func upscale(_ image: VipsImage, size: ImageSize? = nil, to path: String, overwrite: Bool,
                        options: EncodeOptions = EncodeOptions(),
                        progress: (UpscaleTileProgress) -> Void = { _ in },
                        checkCancelled: () throws -> Void = {}) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try upscale(image, size: size, scratchDirectory: directory.isEmpty ? "." : directory,
                    progress: progress, checkCancelled: checkCancelled) { result in
            try result.write(to: path, overwrite: overwrite, options: options)
        }
    }
}
