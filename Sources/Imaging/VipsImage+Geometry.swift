import VipsShim

/// How `padded` fills the new border.
public enum PadMode: Equatable, Sendable {
    /// Repeat the outermost row/column.
    case copy
    /// Reflect without repeating the edge (… 3 2 | 1 2 3 | 2 1 …): OpenCV's BORDER_REFLECT_101, its default,
    /// so a Gaussian feather matches cv2.GaussianBlur as A1111 uses it.
    case reflect101
    /// A constant value per band.
    case constant([Double])
}

extension VipsImage {
    public func cropped(to rect: PixelRect) throws -> VipsImage {
        guard !rect.isEmpty, PixelRect(x: 0, y: 0, width: width, height: height).contains(rect) else {
            throw ImagingError.invalidArgument("crop \(rect) is outside the \(size) image")
        }
        if rect.x == 0 && rect.y == 0 && rect.width == width && rect.height == height { return self }
        return try derive("crop") {
            vshim_extract_area($0, $1, Int32(rect.x), Int32(rect.y), Int32(rect.width), Int32(rect.height))
        }
    }

    public func flipped(horizontally: Bool) throws -> VipsImage {
        try derive("flip") { vshim_flip($0, $1, horizontally ? 1 : 0) }
    }

    /// Places `other` with its top-left corner at (x, y); parts outside this image are clipped.
    public func inserting(_ other: VipsImage, x: Int, y: Int) throws -> VipsImage {
        try withExtendedLifetime(other) {
            try derive("insert") { vshim_insert($0, other.pointer, $1, Int32(x), Int32(y)) }
        }
    }

    /// Adds a border of the given widths (each ≥ 0).
    public func padded(left: Int, top: Int, right: Int, bottom: Int, mode: PadMode) throws -> VipsImage {
        guard left >= 0, top >= 0, right >= 0, bottom >= 0 else {
            throw ImagingError.invalidArgument("padding must be non-negative, got \(left),\(top),\(right),\(bottom)")
        }
        if left == 0 && top == 0 && right == 0 && bottom == 0 { return self }
        let w = width + left + right, h = height + top + bottom
        switch mode {
        case .copy:
            return try derive("embed") {
                vshim_embed($0, $1, Int32(left), Int32(top), Int32(w), Int32(h), Int32(VIPS_EXTEND_COPY.rawValue))
            }
        case .constant(let values):
            guard values.count == 1 || values.count == bands else {
                throw ImagingError.invalidArgument("\(values.count) fill values for a \(bands)-band image")
            }
            return try derive("embed") { input, output in
                values.withUnsafeBufferPointer {
                    vshim_embed_background(input, output, Int32(left), Int32(top), Int32(w), Int32(h),
                                           $0.baseAddress, Int32(values.count))
                }
            }
        case .reflect101:
            return try reflect101(left: left, right: right, horizontal: true)
                .reflect101(left: top, right: bottom, horizontal: false)
        }
    }

    /// Reflect-101 padding along one axis. Reflection is periodic with period 2(n-1); padding by at most n-1
    /// per round, each round's new edge lands on a multiple of n-1 (a symmetry point), so repeating rounds
    /// gives exactly cv2's borderInterpolate for any pad width.
    private func reflect101(left: Int, right: Int, horizontal: Bool) throws -> VipsImage {
        var image = self
        var remainingLeading = left, remainingTrailing = right
        while remainingLeading > 0 || remainingTrailing > 0 {
            let n = horizontal ? image.width : image.height
            if n < 2 {
                return try image.padded(left: horizontal ? remainingLeading : 0, top: horizontal ? 0 : remainingLeading,
                                        right: horizontal ? remainingTrailing : 0, bottom: horizontal ? 0 : remainingTrailing,
                                        mode: .copy)
            }
            let lead = min(remainingLeading, n - 1), trail = min(remainingTrailing, n - 1)
            image = try image.reflectOnce(lead: lead, trail: trail, horizontal: horizontal)
            remainingLeading -= lead
            remainingTrailing -= trail
        }
        return image
    }

    private func reflectOnce(lead: Int, trail: Int, horizontal: Bool) throws -> VipsImage {
        let n = horizontal ? width : height
        func strip(_ start: Int, _ length: Int) throws -> VipsImage {
            let rect = horizontal ? PixelRect(x: start, y: 0, width: length, height: height)
                                  : PixelRect(x: 0, y: start, width: width, height: length)
            return try cropped(to: rect).flipped(horizontally: horizontal)
        }
        var canvas = try padded(left: horizontal ? lead : 0, top: horizontal ? 0 : lead,
                                right: horizontal ? trail : 0, bottom: horizontal ? 0 : trail, mode: .copy)
        if lead > 0 {
            canvas = try canvas.inserting(try strip(1, lead), x: 0, y: 0)
        }
        if trail > 0 {
            let piece = try strip(n - 1 - trail, trail)
            canvas = try canvas.inserting(piece, x: horizontal ? lead + n : 0, y: horizontal ? 0 : lead + n)
        }
        return canvas
    }

    /// One band of this image (0-based).
    public func band(_ index: Int, count: Int = 1) throws -> VipsImage {
        guard index >= 0, count >= 1, index + count <= bands else {
            throw ImagingError.invalidArgument("bands \(index)..<\(index + count) of a \(bands)-band image")
        }
        return try derive("extract_band") { vshim_extract_band($0, $1, Int32(index), Int32(count)) }
    }

    /// Bands of several images joined in order.
    public static func joiningBands(_ images: [VipsImage]) throws -> VipsImage {
        guard !images.isEmpty else { throw ImagingError.invalidArgument("nothing to join") }
        if images.count == 1 { return images[0] }
        var pointers: [UnsafeMutablePointer<_VipsImage>?] = images.map { $0.pointer }
        return try withExtendedLifetime(images) {
            try make("bandjoin") { out in
                pointers.withUnsafeMutableBufferPointer { vshim_bandjoin($0.baseAddress, Int32(images.count), out) }
            }
        }
    }

    /// A libvips matrix image (convolution or recombination weights), row-major.
    static func matrix(width: Int, height: Int, values: [Double]) throws -> VipsImage {
        precondition(values.count == width * height, "matrix shape")
        let made = values.withUnsafeBufferPointer {
            vips_image_new_matrix_from_array(Int32(width), Int32(height), $0.baseAddress, Int32(values.count))
        }
        guard let pointer = made else {
            throw ImagingError.operationFailed(operation: "matrix", detail: VipsErrorBuffer.take())
        }
        return VipsImage(taking: pointer)
    }

    /// Per-pixel maximum (or minimum) over images of the same size and band count.
    static func rank(_ images: [VipsImage], maximum: Bool) throws -> VipsImage {
        if images.count == 1 { return images[0] }
        var pointers: [UnsafeMutablePointer<_VipsImage>?] = images.map { $0.pointer }
        return try withExtendedLifetime(images) {
            try make("bandrank") { out in
                pointers.withUnsafeMutableBufferPointer {
                    vshim_bandrank($0.baseAddress, Int32(images.count), out, maximum ? Int32(images.count - 1) : 0)
                }
            }
        }
    }

    /// a * x + b per sample, float output.
    func linear(_ a: Double, _ b: Double) throws -> VipsImage {
        try derive("linear") { vshim_linear1($0, $1, a, b, 0) }
    }

    func adding(_ other: VipsImage) throws -> VipsImage {
        try withExtendedLifetime(other) { try derive("add") { vshim_add($0, other.pointer, $1) } }
    }

    func subtracting(_ other: VipsImage) throws -> VipsImage {
        try withExtendedLifetime(other) { try derive("subtract") { vshim_subtract($0, other.pointer, $1) } }
    }

    func multiplying(_ other: VipsImage) throws -> VipsImage {
        try withExtendedLifetime(other) { try derive("multiply") { vshim_multiply($0, other.pointer, $1) } }
    }

    /// Largest and smallest sample over all bands.
    public func extrema() throws -> (min: Double, max: Double) {
        var low = 0.0, high = 0.0
        try withExtendedLifetime(self) {
            guard vshim_min_value(pointer, &low) == 0, vshim_max_value(pointer, &high) == 0 else {
                throw ImagingError.operationFailed(operation: "min/max", detail: VipsErrorBuffer.take())
            }
        }
        return (low, high)
    }
}
