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
/// Streaming: the image is read by row bands, a row of tiles is refined, the seam windows whose rows are ready
/// run, and finished rows are written out (`RefineStream`), so memory depends on the width and the tile size,
/// not on the height. The result is bit-identical to running the passes over the whole image in memory.
public struct TileRefiner {
    public let pipeline: StableDiffusionPipeline
    public let settings: RefineSettings

    /// The images a refine accepts: the decoded-size limits of any image (16384² pixels, 2 GiB decoded). Memory
    /// grows with the width (a few rows of tiles of 12-byte float pixels), never with the height.
    public static let limits = ImageLimits.default
    /// The streamed refine holds a few rows of tiles, never the image: only its width is bounded here (at the
    /// longest side any decoder accepts); the caller bounds the output's pixels (`--max-output-pixels`).
    public static let streamingLimits = ImageLimits(maxPixels: .max, maxDimension: ImageLimits.default.maxDimension,
                                                    maxDecodedBytes: .max)

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
        var probeRequest = request(window: probe, width: tile, height: tile, seed: 0, strength: settings.strength)
        probeRequest.controls = settings.controls
        probeRequest.adapters = blankAdapters(width: tile, height: tile)
        try Self.prefixingField { try pipeline.validate(probeRequest) }
    }

    /// The adapters on blank pictures of a window's size: their fit to the UNet depends on the size only.
    func blankAdapters(width: Int, height: Int) -> [T2IAdapterControl] {
        settings.adapters.map { entry in
            T2IAdapterControl(name: entry.name, adapter: entry.adapter,
                              image: Tensor(shape: [1, entry.adapter.config.inChannels, height, width]),
                              weight: entry.weight, factor: entry.factor)
        }
    }

    /// Refuses, before any window runs, adapters that do not fit a window of one of `sizes` (edge tiles and seam
    /// bands can be smaller than a tile, and an SDXL adapter needs sides that are multiples of 16).
    func checkAdapters(forWindowsOf sizes: Set<ImageSize>) throws {
        guard !settings.adapters.isEmpty else { return }
        for size in sizes.sorted(by: { ($0.width, $0.height) < ($1.width, $1.height) }) {
            var probe = request(window: Tensor(shape: [1, 3, size.height, size.width]), width: size.width, height: size.height,
                                seed: 0, strength: settings.strength)
            probe.adapters = blankAdapters(width: size.width, height: size.height)
            try Self.prefixingField { try pipeline.validate(probe) }
        }
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

    /// The refine's control entries in the padded image's frame: each image fitted to the image's `size` by its
    /// resize mode, then padded by repeating its last column/row as the image is (`padded(_:)`).
    public func controls(forImageOf size: ImageSize) throws -> [ControlNetInput] {
        let target = paddedSize(size)
        return try settings.controls.map { control in
            var fitted = control
            do {
                fitted.image = try Self.inPaddedFrame(control.image, resizeMode: control.resizeMode, size: size, padded: target)
            } catch let error as ImagingError {
                throw EngineError.invalidParameter(field: "refine." + control.field + ".image", reason: error.description)
            }
            fitted.resizeMode = .justResize
            return fitted
        }
    }

    /// `picture` fitted to the image's `size` by `resizeMode`, then padded to `padded` by repeating its last
    /// column/row, as `padded(_:)` pads the image: control pictures line up with the image pixel for pixel.
    private static func inPaddedFrame(_ picture: VipsImage, resizeMode: ResizeMode, size: ImageSize,
                                      padded target: ImageSize) throws -> VipsImage {
        let fitted = try resizeMode.apply(picture, width: size.width, height: size.height)
        guard target != size else { return fitted }
        return try fitted.padded(left: 0, top: 0, right: target.width - size.width,
                                 bottom: target.height - size.height, mode: .copy)
    }

    /// The refine's adapters in the padded image's frame: each picture stretched to the image's `size`, then padded
    /// by repeating its last column/row as the image is (`padded(_:)`).
    public func adapters(forImageOf size: ImageSize) throws -> [T2IAdapterPicture] {
        let target = paddedSize(size)
        return try settings.adapters.map { entry in
            var fitted = entry
            do {
                fitted.picture = try Self.inPaddedFrame(entry.picture, resizeMode: .justResize, size: size, padded: target)
            } catch let error as ImagingError {
                throw EngineError.invalidParameter(field: "refine.adapters[\(entry.index)].image", reason: error.description)
            }
            return fitted
        }
    }

    /// One tile of the main pass over the padded image: planar (CHW) VAE output in nominal [-1, 1]. `controls`
    /// and `adapters`: `controls(forImageOf:)` and `adapters(forImageOf:)` of the unpadded image, as the whole
    /// refine uses them.
    public func refineTile(_ tile: Tile, of padded: PlanarRGB, controls: [ControlNetInput] = [],
                           adapters: [T2IAdapterPicture] = [],
                           isCancelled: @escaping () -> Bool = { false }) throws -> [Float] {
        let rect = tile.input
        var crop = [Float](repeating: 0, count: 3 * rect.width * rect.height)
        for c in 0 ..< 3 {
            for y in 0 ..< rect.height {
                let src = (c * padded.height + rect.y + y) * padded.width + rect.x
                let dst = (c * rect.height + y) * rect.width
                for x in 0 ..< rect.width { crop[dst + x] = padded.values[src + x] }
            }
        }
        return try refineWindow(crop, rect: rect, controls: controls, adapters: adapters,
                                seed: RefineSeed.derive(base: settings.seed, pass: .tiles, column: tile.column, row: tile.row),
                                strength: settings.strength, isCancelled: isCancelled)
    }

    /// Refines `image` (planar RGB in [-1, 1], any size) and returns the result at the same size. The image and
    /// the result are in memory; the work in between streams as in `refine(_:scratchDirectory:...)`.
    public func refine(_ image: PlanarRGB, progress: @escaping (RefineProgress) -> Void = { _ in },
                       isCancelled: @escaping () -> Bool = { false },
                       onTile: @escaping (Tile, [Float]) -> Void = { _, _ in }) throws -> PlanarRGB {
        let size = ImageSize(width: image.width, height: image.height)
        try Self.checkLimits(size, bytesPerSample: 4)
        let plane = image.width * image.height, w = image.width
        var out = [Float](repeating: 0, count: image.values.count)
        let stream = try RefineStream(refiner: self, size: size, read: { range in
            var rows = [Float](repeating: 0, count: range.count * 3 * w)
            for (k, y) in range.enumerated() {
                for c in 0 ..< 3 {
                    for x in 0 ..< w { rows[(k * 3 + c) * w + x] = image.values[c * plane + y * w + x] }
                }
            }
            return rows
        }, write: { y0, rows, count in
            for k in 0 ..< count {
                for c in 0 ..< 3 {
                    for x in 0 ..< w { out[c * plane + (y0 + k) * w + x] = rows[(k * 3 + c) * w + x] }
                }
            }
        }, progress: progress, isCancelled: isCancelled, onTile: onTile)
        try stream.run()
        return try PlanarRGB(width: image.width, height: image.height, values: out)
    }

    /// Refines `image` (its colour, as `planarRGB()` reads it; alpha is not refined) streaming: read by row
    /// bands, finished rows quantised (as `VipsImage(planarRGB:bitDepth:)` does; 16-bit stays 16-bit) into a
    /// temporary file in `scratchDirectory`, whose lazy image is handed to `deliver` while the file exists.
    /// The row bands are separate libvips requests, top to bottom: `image` must serve them (a random-access
    /// image, a sequential load as is, the upscaler's result); spool a resize of a sequential load first
    /// (`SpooledImage`).
    public func refine<R>(_ image: VipsImage, scratchDirectory: String,
                          progress: @escaping (RefineProgress) -> Void = { _ in },
                          isCancelled: @escaping () -> Bool = { false },
                          deliver: (VipsImage) throws -> R) throws -> R {
        let reader = try RGBRowReader(image: image)
        let format: PixelFormat = reader.rgb.format == .ushort ? .ushort : .uchar
        let size = ImageSize(width: reader.width, height: reader.height)
        try Self.checkLimits(size, bytesPerSample: format == .ushort ? 2 : 1, limits: Self.streamingLimits)
        let sink = try StripFileSink(directory: scratchDirectory, width: size.width, height: size.height, bands: 3,
                                     format: format)
        let scale = Float(format.maxValue), w = size.width
        let stream = try RefineStream(refiner: self, size: size, read: { try reader.rows($0) }, write: { y0, rows, count in
            // Interleaved, in the sample scale: clamp(x * 0.5 + 0.5, 0, 1) * scale; the sink rounds half to even.
            var samples = [Float](repeating: 0, count: count * 3 * w)
            for k in 0 ..< count {
                for c in 0 ..< 3 {
                    for x in 0 ..< w {
                        samples[(k * w + x) * 3 + c] = min(max(rows[(k * 3 + c) * w + x] * 0.5 + 0.5, 0), 1) * scale
                    }
                }
            }
            try sink.append(OutputStrip(y: y0, height: count, width: w, bands: 3, values: samples))
        }, progress: progress, isCancelled: isCancelled, onTile: { _, _ in })
        try stream.run()
        return try withExtendedLifetime(sink) { try deliver(try sink.image()) }
    }

    static func checkLimits(_ size: ImageSize, bytesPerSample: Int, limits: ImageLimits = TileRefiner.limits) throws {
        do {
            try limits.check(width: size.width, height: size.height, bands: 3, bytesPerSample: bytesPerSample)
        } catch let ImagingError.tooLarge(width, height, limit) {
            throw EngineError.invalidSize(width: width, height: height, reason: "refine accepts at most \(limit)")
        }
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
        request.prompt2 = settings.prompt2
        request.negativePrompt2 = settings.negativePrompt2
        request.micro = settings.micro
        request.embeddings = settings.embeddings
        request.hypernetworks = settings.hypernetworks
        return request
    }

    /// img2img of one window (`crop`: planar values of `rect`'s size in the padded image) with `seed`: the
    /// pipeline's raw VAE output, planar. `controls` and `adapters` (in the padded frame) are cut with `rect`.
    func refineWindow(_ crop: [Float], rect: PixelRect, controls: [ControlNetInput], adapters: [T2IAdapterPicture],
                      seed: UInt64, strength: Double, isCancelled: @escaping () -> Bool) throws -> [Float] {
        let (width, height) = (rect.width, rect.height)
        let window = Tensor(shape: [1, 3, height, width], values: crop)
        var req = request(window: window, width: width, height: height, seed: seed, strength: strength)
        req.controls = try controls.map { control in
            var piece = control
            do {
                piece.image = try control.image.cropped(to: rect)
            } catch let error as ImagingError {
                throw EngineError.invalidParameter(field: "refine." + control.field + ".image", reason: error.description)
            }
            return piece
        }
        req.adapters = try Self.prefixingField {
            try adapters.map { entry in
                let piece: VipsImage
                do { piece = try entry.picture.cropped(to: rect) } catch let error as ImagingError {
                    throw EngineError.invalidParameter(field: "adapters[\(entry.index)].image", reason: error.description)
                }
                return try entry.control(fitted: piece)
            }
        }
        let result = try Self.prefixingField { try pipeline.run(req, hooks: StableDiffusionPipeline.Hooks(isCancelled: isCancelled)) }
        return result.decoded.scalars
    }

    /// Pipeline errors name request fields ("strength"); inside a refine they are "refine.<field>".
    static func prefixingField<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch EngineError.invalidParameter(let field, let reason) {
            throw EngineError.invalidParameter(field: "refine." + field, reason: reason)
        }
    }
}
