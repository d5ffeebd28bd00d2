import Glibc
import VipsShim

/// Collects finished output regions (in any order) or strips (top to bottom) in a raw temporary file so a huge output never sits in memory, then hands
/// libvips an image over that file to encode (libvips reads it through windows, sequentially). The temporary
/// file is deleted when the sink goes away, including on cancellation.
public final class StripFileSink {
    public let width: Int
    public let height: Int
    public let bands: Int
    public let format: PixelFormat
    public let interpretation: Interpretation
    public let path: String
    private var fd: Int32
    private var rowsWritten = 0
    private var pixelsWritten = 0

    /// - Parameter directory: where the temporary file goes (the output's folder keeps it on the same disk).
    public init(directory: String, width: Int, height: Int, bands: Int, format: PixelFormat,
                interpretation: Interpretation? = nil) throws {
        guard format == .uchar || format == .ushort else {
            throw ImagingError.invalidArgument("strip output must be 8- or 16-bit")
        }
        self.width = width
        self.height = height
        self.bands = bands
        self.format = format
        self.interpretation = interpretation
            ?? Interpretation.natural(colorBands: bands == 2 || bands == 4 ? bands - 1 : bands, format: format)
        StaleTemporaries.sweep(directory: directory, patterns: StaleTemporaries.everyKind)
        path = "\(directory)/.diffusiond-strips.\(getpid()).\(UInt64.random(in: 0 ... .max)).raw"
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            throw ImagingError.writeFailed(path: path, detail: String(cString: strerror(errno)))
        }
    }

    deinit {
        if fd >= 0 { close(fd) }
        unlink(path)
    }

    public var isComplete: Bool { pixelsWritten == width * height }

    /// Appends the next strip of whole rows: values are rounded half to even and clamped into the sample range.
    public func append(_ strip: OutputStrip) throws {
        guard strip.y == rowsWritten else {
            throw ImagingError.invalidArgument("strip at row \(strip.y) does not continue the output at row \(rowsWritten)")
        }
        try strip.withRegion { try write($0) }
        rowsWritten += strip.height
    }

    /// Writes a final region (lent by a `TileAssembler`) at its place in the file, in any order: values are
    /// rounded half to even and clamped into the sample range, a row or a few rows at a time, so no band-sized
    /// copy is ever made. Each output pixel must be written exactly once.
    public func write(_ region: FinishedRegion) throws {
        guard region.x >= 0, region.y >= 0, region.x + region.width <= width, region.y + region.height <= height,
              region.bands == bands, region.width > 0, region.height > 0,
              region.rowStride >= region.width * bands,
              region.samples.count >= (region.height - 1) * region.rowStride + region.width * bands else {
            throw ImagingError.invalidArgument("region \(region.width)x\(region.height)x\(region.bands) at (\(region.x), \(region.y)) "
                + "does not fit a \(width)x\(height)x\(bands) output")
        }
        switch format {
        case .uchar: try quantiseAndWrite(region, as: UInt8.self)
        default: try quantiseAndWrite(region, as: UInt16.self)
        }
        pixelsWritten += region.width * region.height
    }

    /// Quantises rows of `region` into about 1 MB of output at a time; full-width rows are contiguous in the
    /// file and go out together.
    private func quantiseAndWrite<T: FixedWidthInteger & UnsignedInteger>(_ region: FinishedRegion, as _: T.Type) throws {
        let maxValue = Float(format.maxValue)
        let rowSamples = region.width * bands
        let rowsPerChunk = region.width == width ? max(1, (1 << 20) / (rowSamples * MemoryLayout<T>.stride)) : 1
        var out = [T](repeating: 0, count: min(region.height, rowsPerChunk) * rowSamples)
        var row = 0
        while row < region.height {
            let n = min(rowsPerChunk, region.height - row)
            for r in 0 ..< n {
                let src = (row + r) * region.rowStride
                for i in 0 ..< rowSamples {
                    out[r * rowSamples + i] = T(min(max(region.samples[src + i], 0), maxValue).rounded(.toNearestOrEven))
                }
            }
            let offset = ((region.y + row) * width + region.x) * bands * MemoryLayout<T>.stride
            try writeAll(out[0 ..< n * rowSamples], at: offset)
            row += n
        }
    }

    private func writeAll<T>(_ samples: ArraySlice<T>, at offset: Int) throws {
        try samples.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, base + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ImagingError.writeFailed(path: path, detail: String(cString: strerror(errno)))
                }
                done += n
            }
        }
    }

    /// The assembled image, read lazily from the temporary file. Keep the sink alive until the image has been
    /// written out.
    public func image() throws -> VipsImage {
        guard isComplete else {
            throw ImagingError.invalidArgument("only \(pixelsWritten) of \(width * height) pixels were written")
        }
        let bytesPerSample = format == .uchar ? 1 : 2
        guard let raw = vips_image_new_from_file_raw(path, Int32(width), Int32(height), Int32(bands * bytesPerSample), 0)
        else {
            throw ImagingError.operationFailed(operation: "rawload", detail: VipsErrorBuffer.take())
        }
        let bytes = VipsImage(taking: raw)
        let typed = try bytes.derive("reinterpret") {
            vshim_copy_format(Int32(format.vips.rawValue), Int32(bands), Int32(interpretation.vips.rawValue), $0, $1)
        }
        return typed
    }
}
