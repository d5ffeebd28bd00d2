import Imaging

/// One bound a streamed output can exceed: what `data.limit` names, its value, and the flag that changes it
/// (nil for a format's own limit, which no flag can raise).
public struct OutputLimit: Equatable, Sendable {
    /// `max_output_pixels`, or `<format>_max_side` (e.g. `jpeg_max_side`).
    public let name: String
    public let maximum: Int
    public let flag: String?
    /// What to do about it, for the error message.
    public let remedy: String
}

/// Bounds of outputs that are streamed to their file (the tiled upscale and its refine): they never sit decoded
/// in memory, so the decoded-image limit (`--max-image-pixels`) does not apply to them. What bounds them is the
/// disk and time they cost (`--max-output-pixels`) and what the output format can hold.
public struct OutputLimits: Equatable, Sendable {
    /// 4 gigapixels: a 6000×4000 photo ×8 is 1.5 Gpx; beyond this a job runs for many hours on a CPU.
    public static let defaultMaxPixels = 4_000_000_000

    public var maxPixels: Int

    public init(maxPixels: Int = OutputLimits.defaultMaxPixels) { self.maxPixels = maxPixels }

    /// Longest side each format can store: JPEG's 16-bit header fields, WebP's 14-bit ones, PNG's 31-bit ones;
    /// TIFF is written as BigTIFF, bounded by libvips' 31-bit coordinates.
    public static func maxSide(of format: ImageFormat) -> Int {
        switch format {
        case .jpeg: return 65_535
        case .webp: return 16_383
        case .png, .tiff: return 2_147_483_647
        }
    }

    /// The first limit a `width`×`height` output in `format` exceeds, nil when it fits.
    public func violation(width: Int, height: Int, format: ImageFormat) -> OutputLimit? {
        let side = Self.maxSide(of: format)
        if width > side || height > side {
            let larger = format == .webp ? ".png, .jpg or .tif" : ".png or .tif"
            return OutputLimit(name: "\(format.rawValue)_max_side", maximum: side, flag: nil,
                               remedy: "\(format.rawValue) stores at most \(side) px a side; write \(larger) instead, or ask for a smaller output")
        }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || pixels > maxPixels {
            return OutputLimit(name: "max_output_pixels", maximum: maxPixels, flag: "--max-output-pixels",
                               remedy: "the daemon's output limit is \(maxPixels) pixels; start it with a higher --max-output-pixels (or max_output_pixels in --config), or ask for a smaller output")
        }
        return nil
    }
}
