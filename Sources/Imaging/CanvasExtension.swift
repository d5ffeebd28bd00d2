/// Pixels added on each side of an image for outpainting (each ≥ 0).
public struct CanvasExtension: Equatable, Hashable, Sendable {
    public var left: Int
    public var top: Int
    public var right: Int
    public var bottom: Int

    public init(left: Int = 0, top: Int = 0, right: Int = 0, bottom: Int = 0) throws {
        guard left >= 0, top >= 0, right >= 0, bottom >= 0 else {
            throw ImagingError.invalidArgument("extension must be non-negative, got left \(left), top \(top), "
                + "right \(right), bottom \(bottom)")
        }
        // Sides come from requests: bound them so canvas sizes (image + left + right) cannot overflow. No side
        // this long can give a canvas within ImageLimits anyway.
        guard max(left, top, right, bottom) <= Self.maxSide else {
            throw ImagingError.invalidArgument("extension of at most \(Self.maxSide) px a side, got left \(left), top \(top), "
                + "right \(right), bottom \(bottom)")
        }
        self.left = left
        self.top = top
        self.right = right
        self.bottom = bottom
    }

    public static let maxSide = 1 << 20

    public var isEmpty: Bool { left == 0 && top == 0 && right == 0 && bottom == 0 }

    public func canvasSize(for image: ImageSize) -> ImageSize {
        ImageSize(width: image.width + left + right, height: image.height + top + bottom)
    }

    /// Where the original lands on the canvas.
    public func originalRect(for image: ImageSize) -> PixelRect {
        PixelRect(x: left, y: top, width: image.width, height: image.height)
    }

    /// A larger extension whose canvas is a multiple of `multiple` on both axes (a latent model needs /8), and the
    /// rectangle of that canvas holding exactly the requested canvas, to crop the result back to. The extra
    /// pixels go on a side that is already being extended (right/bottom first), or on the right/bottom when
    /// none is, so they are always new area.
    public func aligned(toMultipleOf multiple: Int, imageSize image: ImageSize) -> (extension: CanvasExtension, crop: PixelRect) {
        precondition(multiple > 0, "alignment must be positive")
        let canvas = canvasSize(for: image)
        let extraX = (multiple - canvas.width % multiple) % multiple
        let extraY = (multiple - canvas.height % multiple) % multiple
        var grown = self
        let onLeft = right == 0 && left > 0
        let onTop = bottom == 0 && top > 0
        if onLeft { grown.left += extraX } else { grown.right += extraX }
        if onTop { grown.top += extraY } else { grown.bottom += extraY }
        let crop = PixelRect(x: onLeft ? extraX : 0, y: onTop ? extraY : 0, width: canvas.width, height: canvas.height)
        return (grown, crop)
    }
}

/// How the new area of an extended canvas is filled before (or instead of) a model repaints it.
public enum CanvasFill: Equatable, Sendable {
    /// The outermost row/column repeated outward.
    case edge
    /// The image reflected at its border (without repeating the edge pixel).
    case mirror
    /// Edge pixels repeated, then blurred with a Gaussian of `sigma` px, so the new area holds soft colour
    /// continuing the border.
    case blur(sigma: Double)
    /// Uniform random samples from a seeded generator (SplitMix64): the same seed gives the same canvas on any
    /// machine and libvips version. Alpha, if any, is opaque.
    case noise(seed: UInt64)
    /// Content-aware: the new area rebuilt from patches of the image (multi-scale PatchMatch), seeded.
    case patchMatch(PatchMatchOptions)
}

/// An outpainting canvas: the filled image, the repaint mask (1 on the new area, 0 on the original except a
/// feathered band along the extended borders) and where the original sits.
public struct ExtendedCanvas: @unchecked Sendable {
    // @unchecked: holds immutable VipsImage values only.
    public let image: VipsImage
    public let mask: Mask
    public let original: PixelRect

    /// The new area as at most four disjoint rectangles (full-width top and bottom bands, then left and right
    /// bands beside the original), e.g. to pick the outpainting windows of a `TileGrid` that touch it.
    public var newArea: [PixelRect] {
        let w = image.width, h = image.height
        let candidates = [
            PixelRect(x: 0, y: 0, width: w, height: original.y),
            PixelRect(x: 0, y: original.maxY, width: w, height: h - original.maxY),
            PixelRect(x: 0, y: original.y, width: original.x, height: original.height),
            PixelRect(x: original.maxX, y: original.y, width: w - original.maxX, height: original.height),
        ]
        return candidates.filter { !$0.isEmpty }
    }
}
