import VipsShim

/// A repaint mask: one float band in [0, 1], 1 (white / transparent) = repaint, 0 (black / opaque) = keep.
/// Every operation returns a new mask; all of them run in libvips.
public struct Mask: @unchecked Sendable {
    // @unchecked: VipsImage is immutable and Sendable; the struct only holds one.
    public let image: VipsImage

    public var width: Int { image.width }
    public var height: Int { image.height }
    public var size: ImageSize { image.size }

    /// Wraps a one-band float image whose values are already in [0, 1].
    init(unchecked image: VipsImage) {
        self.image = image
    }

    /// A mask from a mask picture: grey as is, RGB through luminance (ITU-R 601, as PIL's convert("L"), which
    /// diffusers and A1111 use: for 8-bit input the luminance is rounded to 8 bits exactly like PIL does).
    /// A mask file's own alpha band is ignored. Samples are scaled by the format's maximum (255 or 65535).
    public init(maskImage: VipsImage) throws {
        var color = maskImage
        if color.hasAlpha { color = try color.band(0, count: color.bands - 1) }
        let luminance: VipsImage
        switch (color.bands, color.format) {
        case (1, _):
            luminance = color
        case (3, .uchar):
            // PIL: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16. Every partial sum is an integer below 2^24
            // over 2^16, so float arithmetic is exact and floor(x + 0.5) reproduces the shift.
            let weights = try VipsImage.matrix(width: 3, height: 1,
                                               values: [19595.0 / 65536, 38470.0 / 65536, 7471.0 / 65536])
            let mixed = try withExtendedLifetime(weights) {
                try color.derive("recomb") { vshim_recomb($0, $1, weights.pointer) }
            }
            luminance = try mixed.linear(1, 0.5).derive("floor") { vshim_round($0, $1, 2) }
        case (3, _):
            let weights = try VipsImage.matrix(width: 3, height: 1, values: [0.299, 0.587, 0.114])
            luminance = try withExtendedLifetime(weights) {
                try color.derive("recomb") { vshim_recomb($0, $1, weights.pointer) }
            }
        default:
            throw ImagingError.invalidArgument(
                "a mask must be a grey or RGB image, this one has \(color.bands) colour bands")
        }
        image = try luminance.dividedToFloat(by: maskImage.format.maxValue).clamped01()
    }

    /// The repaint mask painted as transparency: alpha 0 (transparent) = repaint 1, opaque = keep 0.
    public init(alphaOf picture: VipsImage) throws {
        guard picture.hasAlpha else {
            throw ImagingError.invalidArgument("the image has no alpha channel to take the mask from")
        }
        let alpha = try picture.band(picture.bands - 1)
        image = try alpha.converted(to: .double).linear(-1 / picture.format.maxValue, 1).converted(to: .float).clamped01()
    }

    /// A mask from row-major values in [0, 1] (clamped).
    public init(values: [Float], width: Int, height: Int) throws {
        guard values.allSatisfy({ $0.isFinite }) else { throw ImagingError.invalidArgument("mask values must be finite") }
        let raw = try VipsImage(floats: values, width: width, height: height, bands: 1, interpretation: .bw)
        image = try raw.clamped01().materialized()
    }

    /// A mask of one value everywhere.
    public static func filled(_ value: Float, size: ImageSize) throws -> Mask {
        // The size may come from a request: refuse empty, negative or oversized ones before allocating.
        guard size.width > 0, size.height > 0 else { throw ImagingError.invalidArgument("mask size must be positive, got \(size)") }
        try ImageLimits.default.check(width: size.width, height: size.height, bands: 1, bytesPerSample: 4)
        return try Mask(values: [Float](repeating: value, count: size.width * size.height), width: size.width, height: size.height)
    }

    /// Row-major values.
    public func values() throws -> [Float] { try image.floats() }

    /// 1 - m: repaint what was kept.
    public func inverted() throws -> Mask {
        Mask(unchecked: try image.linear(-1, 1).clamped01())
    }

    /// Binarised: 1 where m ≥ `level`, else 0 (diffusers binarises at 0.5).
    public func thresholded(at level: Float = 0.5) throws -> Mask {
        let ge = try image.derive("threshold") {
            vshim_relational_const1($0, $1, Int32(VIPS_OPERATION_RELATIONAL_MOREEQ.rawValue), Double(level))
        }
        // 255 * float(1/255) rounds to exactly 1.0 in float.
        return Mask(unchecked: try ge.linear(1.0 / 255.0, 0).converted(to: .float))
    }

    /// Dilates by `pixels` (grey-level maximum), or erodes for negative values. The structuring element is an
    /// octagon of radius |pixels|: steps alternate a 3-pixel cross (odd steps) and a 3×3 square (even steps),
    /// the usual discrete approximation of a disc (ComfyUI's GrowMask uses the cross alone). Works on soft masks.
    /// Computed as the equivalent Minkowski sum: ⌈r/2⌉ crosses, then one (2⌊r/2⌋+1)-square done separably.
    public func grown(by pixels: Int) throws -> Mask {
        guard pixels != 0 else { return self }
        let maximum = pixels > 0
        // Any two pixels are closer than width + height in L1 distance, which the octagon of that radius
        // covers: a larger grow gives the same mask, so clamp (exact) instead of looping for a huge request
        // (and `magnitude` avoids abs(Int.min) trapping).
        let r = Int(min(pixels.magnitude, UInt(width + height)))
        var current = image
        for _ in 0 ..< (r + 1) / 2 {
            current = try Mask.rankStep(current, radius: 1, maximum: maximum) { padded, index in
                let across = try padded.derive("rank") { vshim_rank($0, $1, 3, 1, index(3)) }
                let down = try padded.derive("rank") { vshim_rank($0, $1, 1, 3, index(3)) }
                return try VipsImage.rank([across, down], maximum: maximum)
            }
        }
        let half = r / 2
        if half > 0 {
            let side = Int32(2 * half + 1)
            current = try Mask.rankStep(current, radius: half, maximum: maximum) { padded, index in
                let across = try padded.derive("rank") { vshim_rank($0, $1, side, 1, index(Int(side))) }
                return try across.derive("rank") { vshim_rank($0, $1, 1, side, index(Int(side))) }
            }
        }
        return Mask(unchecked: try current.materialized())
    }

    /// Rank windows may not exceed the image, and a copied border is neutral for max/min, so each step works on a
    /// copy-padded image and crops back. `index(n)` gives the rank index of the max/min in an n-pixel window.
    private static func rankStep(_ image: VipsImage, radius: Int, maximum: Bool,
                                 _ body: (VipsImage, (Int) -> Int32) throws -> VipsImage) throws -> VipsImage {
        let padded = try image.padded(left: radius, top: radius, right: radius, bottom: radius, mode: .copy)
        let stepped = try body(padded) { n in maximum ? Int32(n - 1) : 0 }
        return try stepped.cropped(to: PixelRect(x: radius, y: radius, width: image.width, height: image.height))
    }

    /// Gaussian feather with separate horizontal and vertical sigmas in pixels, as A1111's mask blur:
    /// kernel size 2·⌊2.5σ + 0.5⌋ + 1, weights exp(-x²/2σ²) normalised, borders reflected without repeating
    /// the edge (cv2.GaussianBlur's default) — equal to OpenCV's result on float data within 2e-6 (fixture test).
    /// A1111 blurs an 8-bit mask and rounds after each pass; this keeps float precision between passes.
    /// Pixels farther than the kernel radius from any non-zero value stay exactly 0.
    public func feathered(x sigmaX: Double, y sigmaY: Double) throws -> Mask {
        guard sigmaX >= 0, sigmaY >= 0, sigmaX <= VipsImage.maxBlurSigma, sigmaY <= VipsImage.maxBlurSigma else {
            throw ImagingError.invalidArgument("feather must be between 0 and \(VipsImage.maxBlurSigma), got \(sigmaX), \(sigmaY)")
        }
        return Mask(unchecked: try image.gaussianBlurred(sigmaX: sigmaX, sigmaY: sigmaY).clamped01())
    }

    /// The 1-D kernel A1111 builds through cv2.getGaussianKernel.
    public static func gaussianKernel(sigma: Double) -> [Double] { VipsImage.gaussianKernel(sigma: sigma) }

    /// This mask at `size`: unchanged when it already matches, resized (linear, values stay in [0, 1]) when
    /// `resize` is set, otherwise an error naming both sizes.
    public func conformed(to size: ImageSize, resize: Bool) throws -> Mask {
        if self.size == size { return self }
        guard resize else { throw ImagingError.sizeMismatch(what: "the mask", expected: size, actual: self.size) }
        return Mask(unchecked: try image.resized(width: size.width, height: size.height, kernel: .linear).clamped01())
    }

    /// The smallest rectangle holding every value above 0, nil for an empty mask.
    public func boundingBox() throws -> PixelRect? {
        let v = try values()
        var x0 = width, y0 = height, x1 = -1, y1 = -1
        for y in 0 ..< height {
            for x in 0 ..< width where v[y * width + x] > 0 {
                x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
            }
        }
        guard x1 >= 0 else { return nil }
        return PixelRect(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }

    /// The mask as an 8-bit (0…255, rounded) or 16-bit grey picture, e.g. to save it.
    public func picture(bitDepth: Int = 8) throws -> VipsImage {
        let scale: Double = bitDepth == 16 ? 65535 : 255
        let format: PixelFormat = bitDepth == 16 ? .ushort : .uchar
        return try image.linear(scale, 0).converted(to: format).withInterpretation(bitDepth == 16 ? .grey16 : .bw)
    }

    /// Applies `options` in a fixed order: fit to `size`, invert, threshold, grow, feather.
    public func applying(_ options: MaskOptions, imageSize size: ImageSize) throws -> Mask {
        var mask = try conformed(to: size, resize: options.resizeToImage)
        if options.invert { mask = try mask.inverted() }
        if let level = options.threshold { mask = try mask.thresholded(at: level) }
        if options.grow != 0 { mask = try mask.grown(by: options.grow) }
        if options.featherX > 0 || options.featherY > 0 {
            mask = try mask.feathered(x: options.featherX, y: options.featherY)
        }
        return Mask(unchecked: try mask.image.materialized())
    }
}

/// The user's mask settings (issue 5): polarity, binarisation, grow/shrink, feather, size fitting.
public struct MaskOptions: Equatable, Sendable {
    public var invert: Bool
    /// Binarise at this level in [0, 1]; nil keeps grey levels.
    public var threshold: Float?
    /// Pixels to dilate (negative erodes).
    public var grow: Int
    public var featherX: Double
    public var featherY: Double
    /// Resize a mask of another size to the image instead of refusing it.
    public var resizeToImage: Bool

    public init(invert: Bool = false, threshold: Float? = nil, grow: Int = 0, featherX: Double = 0,
                featherY: Double = 0, resizeToImage: Bool = false) {
        self.invert = invert
        self.threshold = threshold
        self.grow = grow
        self.featherX = featherX
        self.featherY = featherY
        self.resizeToImage = resizeToImage
    }

    /// The largest distance (in pixels, per axis) over which the mask's non-zero area can spread.
    public var reach: (x: Int, y: Int) {
        let g = max(0, grow)
        return (g + Int(2.5 * featherX + 0.5), g + Int(2.5 * featherY + 0.5))
    }
}

extension VipsImage {
    /// x / divisor rounded once to float32, as numpy's `astype(float32) / 255` (float32 scaling by a rounded
    /// reciprocal can be one ulp off): computed in double, then rounded.
    func dividedToFloat(by divisor: Double) throws -> VipsImage {
        try converted(to: .double).linear(1 / divisor, 0).converted(to: .float)
    }

    /// Clamps every sample into [0, 1] (float out).
    func clamped01() throws -> VipsImage {
        let float = try converted(to: .float)
        let ones = try float.linear(0, 1)
        let zeros = try float.linear(0, 0)
        let upper = try VipsImage.rank([float, ones], maximum: false)
        return try VipsImage.rank([upper, zeros], maximum: true)
    }
}
