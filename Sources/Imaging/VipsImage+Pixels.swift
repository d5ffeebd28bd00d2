import VipsShim

extension VipsImage {
    /// Interleaved samples (HWC, band-interleaved as libvips stores them) of an 8-bit image.
    public func bytes() throws -> [UInt8] {
        guard format == .uchar else {
            throw ImagingError.invalidArgument("expected an 8-bit image, got \(bitDepth)-bit")
        }
        return try samples(of: UInt8.self)
    }

    /// Interleaved samples of a 16-bit image.
    public func shorts() throws -> [UInt16] {
        guard format == .ushort else {
            throw ImagingError.invalidArgument("expected a 16-bit image, got \(bitDepth)-bit")
        }
        return try samples(of: UInt16.self)
    }

    /// Interleaved samples of a float image.
    public func floats() throws -> [Float] {
        guard format == .float else {
            throw ImagingError.invalidArgument("expected a float image, got \(bitDepth)-bit")
        }
        return try samples(of: Float.self)
    }

    /// Computes the image and copies its samples out (libvips owns nothing afterwards).
    func samples<T>(of type: T.Type) throws -> [T] {
        var length = 0
        guard let raw = withExtendedLifetime(self, { vips_image_write_to_memory(pointer, &length) }) else {
            throw ImagingError.operationFailed(operation: "write_to_memory", detail: VipsErrorBuffer.take())
        }
        defer { g_free(raw) }
        let count = length / MemoryLayout<T>.stride
        return Array(UnsafeBufferPointer(start: raw.assumingMemoryBound(to: T.self), count: count))
    }

    /// An image from interleaved 8-bit samples (copied).
    public convenience init(bytes: [UInt8], width: Int, height: Int, bands: Int,
                            interpretation: Interpretation? = nil) throws {
        try self.init(copying: bytes, width: width, height: height, bands: bands, format: .uchar,
                      interpretation: interpretation)
    }

    /// An image from interleaved 16-bit samples (copied).
    public convenience init(shorts: [UInt16], width: Int, height: Int, bands: Int,
                            interpretation: Interpretation? = nil) throws {
        try self.init(copying: shorts, width: width, height: height, bands: bands, format: .ushort,
                      interpretation: interpretation)
    }

    /// An image from interleaved float samples (copied).
    public convenience init(floats: [Float], width: Int, height: Int, bands: Int,
                            interpretation: Interpretation? = nil) throws {
        try self.init(copying: floats, width: width, height: height, bands: bands, format: .float,
                      interpretation: interpretation)
    }

    convenience init<T>(copying samples: [T], width: Int, height: Int, bands: Int, format: PixelFormat,
                        interpretation: Interpretation?) throws {
        try Imaging.ensureInitialized()
        // Sizes may come from requests: an overflowing product must be an error, not a trap.
        let (pixels, o1) = width.multipliedReportingOverflow(by: height)
        let (total, o2) = pixels.multipliedReportingOverflow(by: bands)
        guard width > 0, height > 0, bands > 0, !o1, !o2, total == samples.count,
              max(width, height, bands) <= Int(Int32.max) else {
            throw ImagingError.invalidArgument(
                "\(samples.count) samples do not make a \(width)x\(height) image with \(bands) bands")
        }
        let made = samples.withUnsafeBytes {
            vips_image_new_from_memory_copy($0.baseAddress, $0.count, Int32(width), Int32(height),
                                            Int32(bands), format.vips)
        }
        guard let pointer = made else {
            throw ImagingError.operationFailed(operation: "new_from_memory_copy", detail: VipsErrorBuffer.take())
        }
        let image = VipsImage(taking: pointer)
        let colorBands = bands == 2 || bands == 4 ? bands - 1 : bands
        let space = interpretation ?? (bands > 4 ? .multiband : Interpretation.natural(colorBands: colorBands, format: format))
        let tagged = try image.withInterpretation(space)
        self.init(taking: tagged.pointer)
        g_object_ref(tagged.pointer)
    }
}
