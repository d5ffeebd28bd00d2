import VipsShim

/// An owning reference to one libvips image. Images are immutable: every operation returns a new image.
/// libvips pipelines are lazy, so a derived image keeps its inputs alive through GObject references; images
/// built from Swift memory always copy it first, so nothing here ever reads memory Swift might free.
public final class VipsImage: @unchecked Sendable {
    // @unchecked: a VipsImage is never mutated after creation and libvips' reference counting is thread-safe.
    let pointer: UnsafeMutablePointer<_VipsImage>

    /// Takes ownership of one reference.
    init(taking pointer: UnsafeMutablePointer<_VipsImage>) {
        self.pointer = pointer
    }

    deinit { g_object_unref(pointer) }

    public var width: Int { Int(vips_image_get_width(pointer)) }
    public var height: Int { Int(vips_image_get_height(pointer)) }
    public var size: ImageSize { ImageSize(width: width, height: height) }
    public var bands: Int { Int(vips_image_get_bands(pointer)) }
    public var hasAlpha: Bool { vips_image_hasalpha(pointer) != 0 }
    /// Bands that carry colour (bands minus the alpha band, if any).
    public var colorBands: Int { hasAlpha ? bands - 1 : bands }
    public var format: PixelFormat { PixelFormat(vips: vips_image_get_format(pointer)) }
    /// Bits per sample: 8, 16 or 32 (float); other libvips formats report their own size.
    public var bitDepth: Int { format.bitDepth }
    public var interpretation: Interpretation { Interpretation(vips: vips_image_get_interpretation(pointer)) }

    /// Runs a libvips operation that produces one image and wraps its result, turning failure into a typed error.
    static func make(_ operation: String, fallback: String = "unknown libvips error",
                     _ body: (UnsafeMutablePointer<UnsafeMutablePointer<_VipsImage>?>) -> Int32) throws -> VipsImage {
        var out: UnsafeMutablePointer<_VipsImage>?
        let status = body(&out)
        guard status == 0, let result = out else {
            if let partial = out { g_object_unref(partial) }
            throw ImagingError.operationFailed(operation: operation, detail: VipsErrorBuffer.take(orElse: fallback))
        }
        return VipsImage(taking: result)
    }

    /// Same as `make` with this image as the input.
    func derive(_ operation: String,
                _ body: (UnsafeMutablePointer<_VipsImage>, UnsafeMutablePointer<UnsafeMutablePointer<_VipsImage>?>) -> Int32)
        throws -> VipsImage {
        try withExtendedLifetime(self) { try VipsImage.make(operation) { body(pointer, $0) } }
    }

    /// Decodes the whole pipeline into memory: later reads are random-access and errors in the source surface here.
    public func materialized() throws -> VipsImage {
        try withExtendedLifetime(self) {
            guard let out = vips_image_copy_memory(pointer) else {
                throw ImagingError.operationFailed(operation: "copy_memory", detail: VipsErrorBuffer.take())
            }
            return VipsImage(taking: out)
        }
    }
}

/// Sample formats the daemon works with; others are reported but not produced.
public enum PixelFormat: Equatable, Sendable {
    case uchar, ushort, float, double, other(Int)

    init(vips: VipsBandFormat) {
        switch vips {
        case VIPS_FORMAT_UCHAR: self = .uchar
        case VIPS_FORMAT_USHORT: self = .ushort
        case VIPS_FORMAT_FLOAT: self = .float
        case VIPS_FORMAT_DOUBLE: self = .double
        default: self = .other(Int(vips.rawValue))
        }
    }

    var vips: VipsBandFormat {
        switch self {
        case .uchar: return VIPS_FORMAT_UCHAR
        case .ushort: return VIPS_FORMAT_USHORT
        case .float: return VIPS_FORMAT_FLOAT
        case .double: return VIPS_FORMAT_DOUBLE
        case .other(let raw): return VipsBandFormat(rawValue: Int32(raw))
        }
    }

    public var bitDepth: Int {
        switch self {
        case .uchar: return 8
        case .ushort: return 16
        case .float: return 32
        case .double: return 64
        case .other(let raw): return Int(vips_format_sizeof(VipsBandFormat(rawValue: Int32(raw)))) * 8
        }
    }

    /// The value of an opaque alpha / full-scale sample.
    public var maxValue: Double {
        switch self {
        case .uchar: return 255
        case .ushort: return 65535
        default: return 1
        }
    }
}

/// How libvips interprets the bands.
public enum Interpretation: Equatable, Sendable {
    case srgb, rgb16, bw, grey16, cmyk, multiband, other(Int)

    init(vips: VipsInterpretation) {
        switch vips {
        case VIPS_INTERPRETATION_sRGB: self = .srgb
        case VIPS_INTERPRETATION_RGB16: self = .rgb16
        case VIPS_INTERPRETATION_B_W: self = .bw
        case VIPS_INTERPRETATION_GREY16: self = .grey16
        case VIPS_INTERPRETATION_CMYK: self = .cmyk
        case VIPS_INTERPRETATION_MULTIBAND: self = .multiband
        default: self = .other(Int(vips.rawValue))
        }
    }

    var vips: VipsInterpretation {
        switch self {
        case .srgb: return VIPS_INTERPRETATION_sRGB
        case .rgb16: return VIPS_INTERPRETATION_RGB16
        case .bw: return VIPS_INTERPRETATION_B_W
        case .grey16: return VIPS_INTERPRETATION_GREY16
        case .cmyk: return VIPS_INTERPRETATION_CMYK
        case .multiband: return VIPS_INTERPRETATION_MULTIBAND
        case .other(let raw): return VipsInterpretation(rawValue: Int32(raw))
        }
    }

    /// The colour interpretation matching a band count and sample format.
    static func natural(colorBands: Int, format: PixelFormat) -> Interpretation {
        let sixteen = format == .ushort
        if colorBands < 3 { return sixteen ? .grey16 : .bw }
        return sixteen ? .rgb16 : .srgb
    }
}
