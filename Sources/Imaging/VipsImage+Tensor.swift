import Tensor

extension VipsImage {
    /// The image as a [1, 3, H, W] tensor in [-1, 1], normalised exactly as diffusers' VaeImageProcessor
    /// (see `planarRGB()`: alpha dropped, grey repeated, 8-bit / 255 or 16-bit / 65535, then 2x − 1).
    public func toTensor() throws -> Tensor {
        let planar = try planarRGB()
        return Tensor(shape: [1, 3, planar.height, planar.width], values: planar.values)
    }

    /// The image as a [1, 3, H, W] tensor in [0, 1] (v / 255 or v / 65535, alpha dropped, grey repeated), as
    /// diffusers prepares ControlNet images.
    public func toUnitTensor() throws -> Tensor {
        let planar = try planarUnitRGB()
        return Tensor(shape: [1, 3, planar.height, planar.width], values: planar.values)
    }

    /// An sRGB image from a [1, 3, H, W] or [3, H, W] tensor in [-1, 1], quantised as diffusers' postprocess
    /// (clamp(x/2 + 0.5, 0, 1) × 255 or 65535, rounded half to even).
    public convenience init(tensor: Tensor, bitDepth: Int = 8) throws {
        let shape = tensor.shape
        let dims: (c: Int, h: Int, w: Int)
        switch shape.count {
        case 4 where shape[0] == 1: dims = (shape[1], shape[2], shape[3])
        case 3: dims = (shape[0], shape[1], shape[2])
        default:
            throw ImagingError.invalidArgument("expected a [1, 3, H, W] or [3, H, W] tensor, got \(shape)")
        }
        guard dims.c == 3 else {
            throw ImagingError.invalidArgument("expected 3 channels, got \(dims.c) in \(shape)")
        }
        let planar = try PlanarRGB(width: dims.w, height: dims.h, values: tensor.scalars)
        try self.init(planarRGB: planar, bitDepth: bitDepth)
    }
}

extension Mask {
    /// The mask as a [1, 1, H, W] tensor in [0, 1] (1 = repaint), the layout diffusers' mask processor produces.
    public func toTensor() throws -> Tensor {
        Tensor(shape: [1, 1, height, width], values: try values())
    }

    /// A mask from a [1, 1, H, W], [1, H, W] or [H, W] tensor (values clamped into [0, 1]).
    public init(tensor: Tensor) throws {
        let shape = tensor.shape
        guard shape.count >= 2, shape.dropLast(2).allSatisfy({ $0 == 1 }) else {
            throw ImagingError.invalidArgument("expected a [1, 1, H, W] mask tensor, got \(shape)")
        }
        try self.init(values: tensor.scalars, width: shape[shape.count - 1], height: shape[shape.count - 2])
    }
}
