import Foundation
import Imaging
import Tensor

/// What a refine reports after each window (tiles of the main pass, then seam-band windows).
public struct RefineProgress: Sendable, Equatable {
    public let window: Int      // 1-based, windows finished so far
    public let windows: Int
    public let pass: RefinePass

    public init(window: Int, windows: Int, pass: RefinePass) {
        self.window = window
        self.windows = windows
        self.pass = pass
    }
}

/// SD upscale: img2img at low strength over overlapping tiles of an (already upscaled) image, through
/// `StableDiffusionPipeline` — the shared sampler loop, one request per tile — blended with `TileGrid` weights
/// by a `TileAssembler`.
///
/// - The image is padded by repeating its edge to multiples of 8 (and of the VAE factor), refined, and cropped back,
///   so the output has exactly the input's size.
/// - Tile (column, row) of the main pass uses seed `RefineSeed.derive(base: seed, pass: .tiles, column:, row:)`
///   and reads only the input image, so `refineTile` alone reproduces it bit for bit.
/// - Seam fix (optional): bands `settings.seamBandWidth` wide centred on each seam (`SeamBand`), each refined by
///   windows of its own grid at `settings.seamStrength`, read from the image as it stands after the main pass
///   and the previous bands, and feathered in with a sin² mask. Seam windows are reproducible given that state.
///
/// Not streaming: the whole image is held as float planes (12 bytes per pixel), hence `maxPixels`.
public struct TileRefiner {
    public let pipeline: StableDiffusionPipeline
    public let settings: RefineSettings

    /// 4096² pixels ≈ 200 MB of float planes.
    public static let maxPixels = 4096 * 4096

    public init(model: LoadedModel, settings: RefineSettings) throws {
        let pipeline = StableDiffusionPipeline(model: model)
        let factor = Self.alignment(of: pipeline)
        let tile = settings.tile
        guard tile >= factor, tile % factor == 0, tile <= StableDiffusionPipeline.maxSide else {
            throw EngineError.invalidParameter(field: "refine.tile",
                reason: "must be a multiple of \(factor) between \(factor) and \(StableDiffusionPipeline.maxSide), got \(tile)")
        }
        guard settings.overlap >= 0, 2 * settings.overlap <= tile else {
            throw EngineError.invalidParameter(field: "refine.overlap",
                reason: "must be between 0 and half the tile (\(tile / 2)), got \(settings.overlap)")
        }
        self.pipeline = pipeline
        self.settings = settings
        // Everything the pipeline would refuse (a strength that runs no step, cfg, clip...) fails here, before
        // any tile runs, with the field named as the client wrote it.
        let probe = Tensor(shape: [1, 3, tile, tile], values: [Float](repeating: 0, count: 3 * tile * tile))
        try Self.prefixingField { try pipeline.validate(request(window: probe, width: tile, height: tile, seed: 0, strength: settings.strength)) }
    }

    /// The main pass's grid over an image of `size` (after padding to multiples of 8).
    public func grid(for size: ImageSize) throws -> TileGrid {
        try TileGrid(imageSize: paddedSize(size), tileSize: settings.tile, overlap: settings.overlap)
    }

    public func paddedSize(_ size: ImageSize) -> ImageSize {
        let f = Self.alignment(of: pipeline)
        return ImageSize(width: (size.width + f - 1) / f * f, height: (size.height + f - 1) / f * f)
    }

    /// The image padded to multiples of 8 by repeating its last column/row (what `refine` tiles).
    public func padded(_ image: PlanarRGB) throws -> PlanarRGB {
        let size = paddedSize(ImageSize(width: image.width, height: image.height))
        if size.width == image.width, size.height == image.height { return image }
        var values = [Float](repeating: 0, count: 3 * size.width * size.height)
        for c in 0 ..< 3 {
            for y in 0 ..< size.height {
                let sy = min(y, image.height - 1)
                for x in 0 ..< size.width {
                    values[(c * size.height + y) * size.width + x] = image.values[(c * image.height + sy) * image.width + min(x, image.width - 1)]
                }
            }
        }
        return try PlanarRGB(width: size.width, height: size.height, values: values)
    }

    /// One tile of the main pass over the padded image: planar (CHW) VAE output in nominal [-1, 1].
    public func refineTile(_ tile: Tile, of padded: PlanarRGB, isCancelled: @escaping () -> Bool = { false }) throws -> [Float] {
        try refineWindow(tile.input, of: padded,
                         seed: RefineSeed.derive(base: settings.seed, pass: .tiles, column: tile.column, row: tile.row),
                         strength: settings.strength, isCancelled: isCancelled)
    }

    /// Refines `image` (planar RGB in [-1, 1], any size) and returns the result at the same size.
    public func refine(_ image: PlanarRGB, progress: (RefineProgress) -> Void = { _ in },
                       isCancelled: @escaping () -> Bool = { false },
                       onTile: (Tile, [Float]) -> Void = { _, _ in }) throws -> PlanarRGB {
        guard image.width * image.height <= Self.maxPixels else {
            throw EngineError.invalidSize(width: image.width, height: image.height,
                reason: "refine holds the whole image in memory and is limited to \(Self.maxPixels) pixels")
        }
        var current = try padded(image)
        let grid = try TileGrid(imageSize: ImageSize(width: current.width, height: current.height),
                                tileSize: settings.tile, overlap: settings.overlap)
        let bands = settings.seamFix ? SeamBand.bands(of: grid, width: settings.seamBandWidth) : []
        var bandGrids: [TileGrid] = []
        for band in bands {
            bandGrids.append(try TileGrid(imageSize: band.rect.size, tileSize: settings.tile, overlap: settings.overlap))
        }
        let windows = grid.tiles.count + bandGrids.reduce(0) { $0 + $1.tiles.count }
        var done = 0

        var assembler = try TileAssembler(grid: grid, bands: 3)
        var refined = [Float](repeating: 0, count: current.values.count)
        for tile in grid.tiles {
            let planes = try refineTile(tile, of: current, isCancelled: isCancelled)
            onTile(tile, planes)
            for strip in try assembler.add(tile, planes: planes) {
                Self.store(strip, into: &refined, width: current.width, height: current.height)
            }
            done += 1
            progress(RefineProgress(window: done, windows: windows, pass: .tiles))
        }
        current.values = refined

        for (band, bandGrid) in zip(bands, bandGrids) {
            var bandAssembler = try TileAssembler(grid: bandGrid, bands: 3)
            let r = band.rect
            var result = [Float](repeating: 0, count: 3 * r.width * r.height)
            for window in bandGrid.tiles {
                let rect = PixelRect(x: r.x + window.input.x, y: r.y + window.input.y,
                                     width: window.input.width, height: window.input.height)
                let planes = try refineWindow(rect, of: current, seed: band.seed(base: settings.seed, window: window),
                                              strength: settings.seamStrength, isCancelled: isCancelled)
                for strip in try bandAssembler.add(window, planes: planes) {
                    Self.store(strip, into: &result, width: r.width, height: r.height)
                }
                done += 1
                progress(RefineProgress(window: done, windows: windows, pass: band.pass))
            }
            Self.feather(result, band: band, into: &current)
        }
        return try Self.crop(current, to: ImageSize(width: image.width, height: image.height))
    }

    // MARK: - pieces

    /// Window sides must be multiples of 8 (the pipeline's rule) and of the VAE factor (both powers of two).
    static func alignment(of pipeline: StableDiffusionPipeline) -> Int { max(8, pipeline.vaeScaleFactor) }

    func request(window: Tensor, width: Int, height: Int, seed: UInt64, strength: Double) -> GenerationRequest {
        var request = GenerationRequest(prompt: settings.prompt)
        request.negativePrompt = settings.negativePrompt
        request.sampler = settings.sampler
        request.steps = settings.steps
        request.cfgScale = settings.cfgScale
        request.seed = seed
        request.width = width
        request.height = height
        request.initImage = window
        request.strength = strength
        return request
    }

    /// img2img of one window of `image` with `seed`: the pipeline's raw VAE output, planar.
    func refineWindow(_ rect: PixelRect, of image: PlanarRGB, seed: UInt64, strength: Double,
                      isCancelled: @escaping () -> Bool) throws -> [Float] {
        var crop = [Float](repeating: 0, count: 3 * rect.width * rect.height)
        for c in 0 ..< 3 {
            for y in 0 ..< rect.height {
                let src = (c * image.height + rect.y + y) * image.width + rect.x
                let dst = (c * rect.height + y) * rect.width
                for x in 0 ..< rect.width { crop[dst + x] = image.values[src + x] }
            }
        }
        let window = Tensor(shape: [1, 3, rect.height, rect.width], values: crop)
        let req = request(window: window, width: rect.width, height: rect.height, seed: seed, strength: strength)
        let result = try Self.prefixingField { try pipeline.run(req, hooks: StableDiffusionPipeline.Hooks(isCancelled: isCancelled)) }
        return result.decoded.scalars
    }

    /// Writes an interleaved strip of finished rows into planar values.
    static func store(_ strip: OutputStrip, into planes: inout [Float], width: Int, height: Int) {
        for y in 0 ..< strip.height {
            for x in 0 ..< strip.width {
                for c in 0 ..< 3 {
                    planes[(c * height + strip.y + y) * width + x] = strip.values[(y * strip.width + x) * strip.bands + c]
                }
            }
        }
    }

    /// image += feather · (band result − image) over the band's rectangle.
    static func feather(_ result: [Float], band: SeamBand, into image: inout PlanarRGB) {
        let r = band.rect, mask = band.feather
        for c in 0 ..< 3 {
            for y in 0 ..< r.height {
                for x in 0 ..< r.width {
                    let m = band.pass == .verticalSeams ? mask[x] : mask[y]
                    let i = (c * image.height + r.y + y) * image.width + r.x + x
                    let v = image.values[i]
                    image.values[i] = v + m * (result[(c * r.height + y) * r.width + x] - v)
                }
            }
        }
    }

    static func crop(_ image: PlanarRGB, to size: ImageSize) throws -> PlanarRGB {
        if size.width == image.width, size.height == image.height { return image }
        var values = [Float](repeating: 0, count: 3 * size.width * size.height)
        for c in 0 ..< 3 {
            for y in 0 ..< size.height {
                for x in 0 ..< size.width {
                    values[(c * size.height + y) * size.width + x] = image.values[(c * image.height + y) * image.width + x]
                }
            }
        }
        return try PlanarRGB(width: size.width, height: size.height, values: values)
    }

    /// Pipeline errors name request fields ("strength"); inside a refine they are "refine.<field>".
    static func prefixingField<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch EngineError.invalidParameter(let field, let reason) {
            throw EngineError.invalidParameter(field: "refine." + field, reason: reason)
        }
    }
}
