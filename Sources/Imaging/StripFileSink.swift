import Glibc
import VipsShim

/// Collects finished output strips in a raw temporary file so a huge output never sits in memory, then hands
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

    public var isComplete: Bool { rowsWritten == height }

    /// Appends the next strip: values are rounded half to even and clamped into the sample range.
    public func append(_ strip: OutputStrip) throws {
        try strip.withFinishedRows { try append($0) }
    }

    /// Appends the next finished rows (lent by a `TileAssembler`): values are rounded half to even and clamped
    /// into the sample range, a few rows at a time, so no band-sized copy is ever made.
    public func append(_ rows: FinishedRows) throws {
        guard rows.y == rowsWritten, rows.width == width, rows.bands == bands, rows.y + rows.height <= height,
              rows.samples.count == rows.height * rows.width * rows.bands else {
            throw ImagingError.invalidArgument("strip at row \(rows.y) (\(rows.width)x\(rows.height)x\(rows.bands)) "
                + "does not continue a \(width)x\(height)x\(bands) output at row \(rowsWritten)")
        }
        switch format {
        case .uchar: try quantiseAndWrite(rows.samples, as: UInt8.self)
        default: try quantiseAndWrite(rows.samples, as: UInt16.self)
        }
        rowsWritten += rows.height
    }

    /// Quantises and writes `samples` in chunks of about 1 MB of output.
    private func quantiseAndWrite<T: FixedWidthInteger & UnsignedInteger>(_ samples: UnsafeBufferPointer<Float>, as _: T.Type) throws {
        let maxValue = Float(format.maxValue)
        let chunk = min(samples.count, max(1, (1 << 20) / MemoryLayout<T>.stride))
        var out = [T](repeating: 0, count: chunk)
        var start = 0
        while start < samples.count {
            let n = min(chunk, samples.count - start)
            for i in 0 ..< n { out[i] = T(min(max(samples[start + i], 0), maxValue).rounded(.toNearestOrEven)) }
            try writeAll(out[0 ..< n])
            start += n
        }
    }

    private func writeAll<T>(_ samples: ArraySlice<T>) throws {
        try samples.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ImagingError.writeFailed(path: path, detail: String(cString: strerror(errno)))
                }
                offset += n
            }
        }
    }

    /// The assembled image, read lazily from the temporary file. Keep the sink alive until the image has been
    /// written out.
    public func image() throws -> VipsImage {
        guard isComplete else {
            throw ImagingError.invalidArgument("only \(rowsWritten) of \(height) rows were written")
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
