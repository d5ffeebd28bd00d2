/// Bounds checked against an image's header before any pixel is decoded, so a few-KB file that claims
/// 50,000×50,000 pixels (a decompression bomb) is refused without allocating anything.
public struct ImageLimits: Equatable, Sendable {
    /// Width × height.
    public var maxPixels: Int
    /// Longest side.
    public var maxDimension: Int
    /// Width × height × bands × bytes per sample of the decoded image.
    public var maxDecodedBytes: Int

    /// 16384² pixels (a 16K square), 65,535 px a side (the largest JPEG/WebP side), 2 GiB decoded.
    public static let `default` = ImageLimits(maxPixels: 268_435_456, maxDimension: 65_535,
                                              maxDecodedBytes: 2 << 30)

    public init(maxPixels: Int, maxDimension: Int, maxDecodedBytes: Int) {
        self.maxPixels = maxPixels
        self.maxDimension = maxDimension
        self.maxDecodedBytes = maxDecodedBytes
    }

    /// Throws `tooLarge` naming the first limit the header exceeds.
    public func check(width: Int, height: Int, bands: Int, bytesPerSample: Int) throws {
        if width > maxDimension || height > maxDimension {
            throw ImagingError.tooLarge(width: width, height: height, limit: "longest side \(maxDimension) px")
        }
        let (pixels, o1) = width.multipliedReportingOverflow(by: height)
        if o1 || pixels > maxPixels {
            throw ImagingError.tooLarge(width: width, height: height, limit: "\(maxPixels) pixels")
        }
        let (samples, o2) = pixels.multipliedReportingOverflow(by: bands)
        let (bytes, o3) = samples.multipliedReportingOverflow(by: bytesPerSample)
        if o2 || o3 || bytes > maxDecodedBytes {
            throw ImagingError.tooLarge(width: width, height: height,
                                        limit: "\(maxDecodedBytes) bytes decoded (\(bands) bands)")
        }
    }
}
