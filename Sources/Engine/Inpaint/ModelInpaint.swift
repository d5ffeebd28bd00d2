import Imaging
import Tensor

/// Inpainting and outpainting with a diffusion model, from pictures to pictures: region choice, pixel fill,
/// the model run (`InpaintPipeline`, inside the shared sampler loop), optional colour match, and the exact
/// composite through the full-resolution feathered mask. Outside the mask the output is the input bit for bit.
public struct ModelInpaint {
    public let pipeline: InpaintPipeline

    public init(model: LoadedModel) {
        pipeline = InpaintPipeline(model: model)
    }

    /// What to do besides the generation parameters.
    public struct Options: Sendable {
        public var area: InpaintArea = .whole
        public var fill: InpaintFill = .original
        public var blend: InpaintLatentBlend.Mode = .hard
        public var colorMatch = false
        /// Processing size; nil: the region's own size rounded to a multiple of 8.
        public var processingSize: ImageSize?
        /// T2I-Adapters with pictures of the image's size: each is cut and resampled like the image (the region
        /// of `area: masked`) before it steers the run. Outpainting takes them at any size and stretches them to
        /// the extended canvas, as its control images.
        public var adapters: [T2IAdapterPicture] = []
        public init() {}

        /// What every side the model runs at must be a multiple of: the VAE's 8, or an adapter's own
        /// downscale where it is coarser (SDXL T2I-Adapters take 16), so regions, outpaint canvases and
        /// windows are sized for them instead of being refused once the run starts.
        public var sizeMultiple: Int { Self.sizeMultiple(downscaleFactors: adapters.map(\.adapter.config.downscaleFactor)) }

        public static func sizeMultiple(downscaleFactors: [Int]) -> Int {
            downscaleFactors.reduce(8) { leastCommonMultiple($0, max(1, $1)) }
        }

        static func leastCommonMultiple(_ a: Int, _ b: Int) -> Int {
            var (x, y) = (a, b)
            while y != 0 { (x, y) = (y, x % y) }
            return a / x * b
        }
    }

    /// The multiple-of-8 size nearest to `size` (at least 8 per side).
    public static func roundedTo8(_ size: ImageSize) -> ImageSize {
        rounded(size, toMultipleOf: 8)
    }

    /// The size nearest to `size` whose sides are multiples of `multiple` (at least one multiple per side).
    public static func rounded(_ size: ImageSize, toMultipleOf multiple: Int) -> ImageSize {
        let m = max(1, multiple)
        return ImageSize(width: max(m, (size.width + m / 2) / m * m), height: max(m, (size.height + m / 2) / m * m))
    }

    /// `size` scaled down (aspect kept) so neither side exceeds `maxSide`; the model cannot run larger, and the
    /// result is resized back to the region before the paste, so the outside stays exact anyway.
    public static func fitted(_ size: ImageSize, maxSide: Int) -> ImageSize {
        let longest = max(size.width, size.height)
        guard longest > maxSide else { return size }
        // Room for rounding to the processing multiple (to the nearest 8 or 16: at most 8 more).
        let scale = Double(maxSide - 8) / Double(longest)
        return ImageSize(width: max(8, Int(Double(size.width) * scale)), height: max(8, Int(Double(size.height) * scale)))
    }

    /// Repaints `image` through `mask` (image size). `request` carries prompt, sampler, steps, seed, strength
    /// (its size and init image are set here). Returns one composited picture per batch image.
    /// `refiner`: the SDXL hand-off (see `InpaintPipeline.run`).
    public func run(image: VipsImage, mask: Mask, request template: GenerationRequest, options: Options,
                    refiner: RefinerHandoff? = nil,
                    hooks: StableDiffusionPipeline.Hooks = StableDiffusionPipeline.Hooks()) throws -> [VipsImage] {
        guard try mask.image.extrema().max > 0 else { throw InpaintError.emptyMask(imageSize: image.size) }
        // Latent fills replace the original's latents under the mask; at strength 1 the run starts from pure
        // noise there, so the fill would silently do nothing.
        if options.fill == .latentNoise || options.fill == .latentNothing, template.strength >= 1 {
            throw EngineError.invalidParameter(field: "fill",
                reason: "\(options.fill.name) changes the start latents, which strength 1 replaces with noise; use strength below 1")
        }
        // The processing size: given, or the region's size at the image's aspect rounded to /8.
        let size: ImageSize
        if let given = options.processingSize {
            size = given
        } else {
            let natural = try InpaintRegion(image: image, mask: mask, area: options.area, processingSize: nil).rect.size
            let multiple = options.sizeMultiple
            size = Self.rounded(Self.fitted(natural, maxSide: StableDiffusionPipeline.maxSide),
                                toMultipleOf: multiple)
        }
        let region = try InpaintRegion(image: image, mask: mask, area: options.area, processingSize: size)
        let prepared = try options.fill.apply(to: region.image, mask: region.mask)
        var request = template
        request.width = size.width
        request.height = size.height
        request.initImage = try prepared.toTensor()
        request.adapters = try options.adapters.map { entry in
            guard entry.picture.size == image.size else {
                throw EngineError.invalidParameter(field: "adapters[\(entry.index)].image",
                    reason: "is \(entry.picture.width)x\(entry.picture.height); inpaint needs it at the image's size \(image.width)x\(image.height)")
            }
            return try entry.control(fitted: try region.piece(of: entry.picture))
        }
        request.controls = try template.controls.map { try Self.control($0, in: region, imageSize: image.size) }
        let result = try pipeline.run(request, mask: try region.mask.toTensor(), blend: options.blend,
                                      latentFill: options.fill, refiner: refiner, hooks: hooks)
        var outputs: [VipsImage] = []
        for i in 0 ..< result.seeds.count {
            var repainted = try VipsImage(tensor: result.decoded[batch: i], bitDepth: image.bitDepth == 16 ? 16 : 8)
            if options.colorMatch {
                repainted = try repainted.colorMatched(to: region.image, mask: region.mask)
            }
            outputs.append(try region.pasteBack(repainted, into: image, mask: mask))
        }
        return outputs
    }

    /// A control entry for `region`: with the whole image, fitted straight to the processing size; with a crop,
    /// fitted to the image's size, cut with the same rectangle as the image and resized as the image's piece is,
    /// so the control keeps its place relative to the picture.
    static func control(_ control: ControlNetInput, in region: InpaintRegion, imageSize: ImageSize) throws -> ControlNetInput {
        let size = region.processingSize
        let full = PixelRect(x: 0, y: 0, width: imageSize.width, height: imageSize.height)
        var out = control
        do {
            if region.rect == full {
                out.image = try control.resizeMode.apply(control.image, width: size.width, height: size.height)
            } else {
                var piece = try control.resizeMode.apply(control.image, width: imageSize.width, height: imageSize.height)
                    .cropped(to: region.rect)
                if size != region.rect.size {
                    piece = try piece.resized(width: size.width, height: size.height, kernel: .lanczos3)
                }
                out.image = piece
            }
        } catch let error as ImagingError {
            throw EngineError.invalidParameter(field: control.field + ".image", reason: error.description)
        }
        out.resizeMode = .justResize
        return out
    }

    /// Outpainting: the canvas is extended (to `Options.sizeMultiple`, 8 or an adapter's 16, on the sides being extended), filled, repainted
    /// through the seam mask, and cropped back to exactly the requested canvas. When the canvas is larger than
    /// `modelResolution` the model runs in windows along the border (`OutpaintWindows`), one after another,
    /// each seeing the windows before it and pasted through the seam mask, so the interior is never resampled.
    public func outpaint(image: VipsImage, extension ext: CanvasExtension, fill: CanvasFill, seamFeather: Int,
                         request: GenerationRequest, options: Options, modelResolution: Int,
                         hooks: StableDiffusionPipeline.Hooks = StableDiffusionPipeline.Hooks()) throws -> [VipsImage] {
        guard !ext.isEmpty else { throw InpaintError.emptyExtension }
        let multiple = options.sizeMultiple
        let (aligned, crop) = ext.aligned(toMultipleOf: multiple, imageSize: image.size)
        let canvas = try image.extended(by: aligned, fill: fill, seamFeather: seamFeather)
        // Control images cover the extended canvas (fitted to it here; windows cut their piece out).
        var request = request
        request.controls = try request.controls.map { control in
            var fitted = control
            do {
                fitted.image = try control.resizeMode.apply(control.image, width: canvas.image.width, height: canvas.image.height)
            } catch let error as ImagingError {
                throw EngineError.invalidParameter(field: control.field + ".image", reason: error.description)
            }
            fitted.resizeMode = .justResize
            return fitted
        }
        // T2I-Adapter pictures too, stretched to the canvas as a control image with resize mode "just resize".
        var wholeOptions = options
        wholeOptions.area = .whole
        wholeOptions.adapters = try options.adapters.map { entry in
            var fitted = entry
            do {
                fitted.picture = try ResizeMode.justResize.apply(entry.picture, width: canvas.image.width, height: canvas.image.height)
            } catch let error as ImagingError {
                throw EngineError.invalidParameter(field: "adapters[\(entry.index)].image", reason: error.description)
            }
            return fitted
        }
        let results: [VipsImage]
        if OutpaintWindows.fitsInOnePass(canvas: canvas.image.size, modelResolution: modelResolution) {
            wholeOptions.processingSize = canvas.image.size
            results = try run(image: canvas.image, mask: canvas.mask, request: request, options: wholeOptions, hooks: hooks)
        } else {
            let tile = max(64, modelResolution / multiple * multiple)
            let windows = try OutpaintWindows(
                canvas: canvas.image.size,
                repaint: OutpaintWindows.repaintRects(canvas: canvas.image.size, original: canvas.original,
                                                      extension: aligned, seamFeather: seamFeather),
                tileSize: tile, overlap: tile / 4)
            var working = canvas.image
            for window in windows.tiles {
                let rect = window.input
                let pieceMask = try Mask(values: try canvas.mask.image.cropped(to: rect).floats(),
                                         width: rect.width, height: rect.height)
                guard try pieceMask.image.extrema().max > 0 else { continue }
                var piece = wholeOptions
                piece.processingSize = Self.rounded(rect.size, toMultipleOf: multiple)
                var single = request
                single.batchSize = 1
                single.controls = try request.controls.map { control in
                    var piece = control
                    piece.image = try control.image.cropped(to: rect)
                    return piece
                }
                piece.adapters = try wholeOptions.adapters.map { entry in
                    var cut = entry
                    cut.picture = try entry.picture.cropped(to: rect)
                    return cut
                }
                let repainted = try run(image: try working.cropped(to: rect), mask: pieceMask, request: single,
                                        options: piece, hooks: hooks)[0]
                working = try working.inserting(repainted, x: rect.x, y: rect.y)
            }
            results = [working]
        }
        // The original region is bit-identical in every result (the seam mask is 0 there beyond the feather),
        // and cropping cannot change samples.
        return try results.map { try $0.cropped(to: crop).withMetadata(from: image) }
    }
}
