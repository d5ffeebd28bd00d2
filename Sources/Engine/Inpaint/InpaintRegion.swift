import Imaging

/// Which part of the image inpainting works on (`area`).
public enum InpaintArea: Equatable, Sendable {
    /// The whole image, resized to the processing size.
    case whole
    /// Only the mask's bounding box grown by `padding` px and widened to the processing aspect (A1111's
    /// "only masked", diffusers' `padding_mask_crop`); the rest of the image is never touched or resampled.
    case masked(padding: Int)
}

/// The piece of the image that is processed and where it goes back: crop, resize to the processing size,
/// repaint there, resize back, paste through the full-size mask.
public struct InpaintRegion: @unchecked Sendable {
    // @unchecked: holds immutable VipsImage values only.
    /// Where the processed piece comes from and returns to, in image pixels.
    public let rect: PixelRect
    /// The size the piece is processed at (the model's resolution, or `rect`'s size without a model).
    public let processingSize: ImageSize
    /// The image's pixels in `rect`, at `processingSize`.
    public let image: VipsImage
    /// The mask in `rect`, at `processingSize`.
    public let mask: Mask

    /// Cuts the region for `area` out of `image`. `processingSize` nil means "keep the crop's own size" (model-free
    /// work needs no resampling, and the crop then keeps the image's aspect ratio).
    public init(image source: VipsImage, mask: Mask, area: InpaintArea, processingSize processing: ImageSize?) throws {
        guard mask.size == source.size else {
            throw ImagingError.sizeMismatch(what: "the mask", expected: source.size, actual: mask.size)
        }
        let full = PixelRect(x: 0, y: 0, width: source.width, height: source.height)
        switch area {
        case .whole:
            rect = full
        case .masked(let padding):
            let aspect = processing ?? source.size
            guard let crop = try mask.cropRegion(processingWidth: aspect.width, processingHeight: aspect.height,
                                                 padding: padding) else {
                throw InpaintError.emptyMask(imageSize: source.size)
            }
            rect = crop
        }
        let size = processing ?? rect.size
        processingSize = size
        var piece = rect == full ? source : try source.cropped(to: rect)
        var pieceMask = rect == full ? mask.image : try mask.image.cropped(to: rect)
        if size != rect.size {
            piece = try piece.resized(width: size.width, height: size.height, kernel: .lanczos3)
            pieceMask = try pieceMask.resized(width: size.width, height: size.height, kernel: .linear)
        }
        image = try piece.materialized()
        self.mask = try Mask(values: try pieceMask.floats(), width: size.width, height: size.height)
    }

    /// The same region of another picture of the source's size (a control picture), at `processingSize`,
    /// resampled as the image was.
    public func piece(of other: VipsImage) throws -> VipsImage {
        let full = PixelRect(x: 0, y: 0, width: other.width, height: other.height)
        var piece = rect == full ? other : try other.cropped(to: rect)
        if processingSize != rect.size {
            piece = try piece.resized(width: processingSize.width, height: processingSize.height, kernel: .lanczos3)
        }
        return piece
    }

    /// Puts a processed piece (at `processingSize`) back into `original` through the full-size `mask`.
    /// Outside `rect`, and wherever `mask` is exactly 0, the result is `original` bit for bit.
    public func pasteBack(_ processed: VipsImage, into original: VipsImage, mask: Mask,
                          alpha: PasteAlpha = .blend) throws -> VipsImage {
        guard processed.size == processingSize else {
            throw ImagingError.sizeMismatch(what: "the processed region", expected: processingSize, actual: processed.size)
        }
        let back = processed.size == rect.size
            ? processed : try processed.resized(width: rect.width, height: rect.height, kernel: .lanczos3)
        if rect == PixelRect(x: 0, y: 0, width: original.width, height: original.height) {
            return try original.pasting(back, through: mask, alpha: alpha)
        }
        return try original.pasting(back, at: rect, through: mask, alpha: alpha)
    }
}
