import Glibc
import VipsShim

/// Whether `load` decodes every pixel up front or leaves a lazy, sequential pipeline.
public enum LoadMode: Sendable {
    /// Decode now into memory: a truncated or damaged file fails here, and the result is random-access.
    /// Photos carrying an EXIF orientation are turned upright (as viewers show them) and the tag is removed.
    case decoded
    /// Read pixels top to bottom on demand (streaming upscales); decode errors surface when pixels are computed.
    /// No EXIF rotation (it needs random access): check `orientation`.
    case sequential
}

extension VipsImage {
    /// Loaders the daemon accepts; everything else (SVG, PDF, ImageMagick, matrix files…) is refused so
    /// socket input only reaches well-trodden decoders.
    /// (libvips names loaders by class here: vips_foreign_find_load_source returns the type name.)
    static let allowedLoaders: Set<String> = [
        "VipsForeignLoadPngSource", "VipsForeignLoadJpegSource", "VipsForeignLoadWebpSource",
        "VipsForeignLoadTiffSource", "VipsForeignLoadNsgifSource",
    ]

    /// Loads a regular image file. The path is `stat`ed first and anything that is not a regular file
    /// (directory, FIFO, socket, device) is refused before it is opened; the file is then opened with
    /// O_NONBLOCK (so a FIFO swapped in after the check still cannot block) and checked again with `fstat` on
    /// the open descriptor, which is what libvips reads. Symbolic links are followed: the target is what counts.
    /// The header is checked against `limits` before any pixel is decoded.
    public static func load(path: String, limits: ImageLimits = .default, mode: LoadMode = .decoded) throws -> VipsImage {
        try Imaging.ensureInitialized()
        var info = stat()
        if stat(path, &info) != 0 {
            throw openError(path: path, errno: errno)
        }
        if let kind = nonRegularKind(info.st_mode) {
            throw ImagingError.notARegularFile(path: path, kind: kind)
        }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 { throw openError(path: path, errno: errno) }
        defer { close(fd) }
        return try load(descriptor: fd, name: path, limits: limits, mode: mode)
    }

    /// Loads the regular file open at `fd` (the caller's, checked by the caller's own rules, still the caller's
    /// to close), `name` naming it in errors; as `load(path:)` from its `fstat` on.
    public static func load(descriptor fd: Int32, name: String, limits: ImageLimits = .default,
                            mode: LoadMode = .decoded) throws -> VipsImage {
        try Imaging.ensureInitialized()
        var info = stat()
        if fstat(fd, &info) != 0 { throw openError(path: name, errno: errno) }
        if let kind = nonRegularKind(info.st_mode) {
            throw ImagingError.notARegularFile(path: name, kind: kind)
        }
        if let problem = PNGChunkBounds.violation(descriptor: fd, size: Int(info.st_size)) {
            throw ImagingError.decodeFailed(source: name, detail: problem)
        }
        // The source dup()s the descriptor, so closing ours after loading is fine.
        guard let source = vips_source_new_from_descriptor(fd) else {
            throw ImagingError.unreadable(path: name, reason: VipsErrorBuffer.take())
        }
        defer { g_object_unref(source) }
        return try load(source: source, name: name, limits: limits, mode: mode)
    }

    /// Loads an encoded image held in memory (e.g. a base64 payload). The bytes are copied into a libvips-owned
    /// blob, so a lazy image never reads Swift memory after this returns.
    public static func load(data: [UInt8], limits: ImageLimits = .default, mode: LoadMode = .decoded) throws -> VipsImage {
        try Imaging.ensureInitialized()
        guard !data.isEmpty else {
            throw ImagingError.unsupportedFormat(source: "inline image", detail: "the data is empty")
        }
        if let problem = PNGChunkBounds.violation(in: data) {
            throw ImagingError.decodeFailed(source: "inline image (\(data.count) bytes)", detail: problem)
        }
        guard let copy = g_malloc(gsize(data.count)) else {
            throw ImagingError.operationFailed(operation: "g_malloc", detail: "out of memory for \(data.count) bytes")
        }
        data.withUnsafeBytes { if let base = $0.baseAddress { copy.copyMemory(from: base, byteCount: data.count) } }
        let freeBlob: VipsCallbackFn = { data, _ in g_free(data); return 0 }  // called as (data, area)
        guard let blob = vips_blob_new(freeBlob, copy, data.count) else {
            g_free(copy)
            throw ImagingError.operationFailed(operation: "blob", detail: VipsErrorBuffer.take())
        }
        defer { vips_area_unref(UnsafeMutableRawPointer(blob).assumingMemoryBound(to: VipsArea.self)) }
        guard let source = vips_source_new_from_blob(blob) else {
            throw ImagingError.operationFailed(operation: "source", detail: VipsErrorBuffer.take())
        }
        defer { g_object_unref(source) }
        return try load(source: source, name: "inline image (\(data.count) bytes)", limits: limits, mode: mode)
    }

    private static func load(source: UnsafeMutablePointer<VipsSource>, name: String, limits: ImageLimits,
                             mode: LoadMode) throws -> VipsImage {
        guard let loaderName = vshim_find_load_source(source) else {
            _ = VipsErrorBuffer.take()
            throw ImagingError.unsupportedFormat(source: name, detail: "not a recognised image (\(sniff(source)))")
        }
        let loader = String(cString: loaderName)
        guard allowedLoaders.contains(loader) else {
            let kind = loader.replacingOccurrences(of: "VipsForeignLoad", with: "")
                .replacingOccurrences(of: "Source", with: "").uppercased()
            throw ImagingError.unsupportedFormat(source: name, detail: "\(kind) input is not accepted")
        }
        // Header only: libvips does not decode pixels until the image is computed. fail_on=error makes
        // truncated or corrupt data an error instead of a silently grey-filled image.
        let header: VipsImage
        do {
            header = try VipsImage.make("load", fallback: "the header is incomplete or invalid") {
                vshim_new_from_source(source, Int32(VIPS_FAIL_ON_ERROR.rawValue), 1, $0)
            }
        } catch ImagingError.operationFailed(_, let detail) {
            throw ImagingError.decodeFailed(source: name, detail: detail)
        }
        try limits.check(width: header.width, height: header.height, bands: header.bands,
                         bytesPerSample: max(1, header.bitDepth / 8))
        guard mode == .decoded else { return header }
        let decoded: VipsImage
        do {
            decoded = try header.materialized()
        } catch ImagingError.operationFailed(_, let detail) {
            throw ImagingError.decodeFailed(source: name, detail: detail)
        }
        guard (2 ... 8).contains(decoded.orientation) else { return decoded }
        return try decoded.derive("autorot") { vshim_autorot($0, $1) }.materialized()
    }

    /// The EXIF orientation (1 = upright, 2…8 = flipped/rotated), 1 when absent.
    public var orientation: Int {
        guard vips_image_get_typeof(pointer, "orientation") != 0 else { return 1 }
        var value: Int32 = 1
        guard vips_image_get_int(pointer, "orientation", &value) == 0 else {
            _ = VipsErrorBuffer.take()
            return 1
        }
        return Int(value)
    }

    /// A copy tagged with an EXIF orientation (written by JPEG, WebP and TIFF savers).
    public func settingOrientation(_ orientation: Int) throws -> VipsImage {
        guard (1 ... 8).contains(orientation) else {
            throw ImagingError.invalidArgument("EXIF orientation must be 1...8, got \(orientation)")
        }
        let copy = try derive("copy") { vshim_copy($0, $1) }
        vips_image_set_int(copy.pointer, "orientation", Int32(orientation))
        return copy
    }

    private static func nonRegularKind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO (named pipe)"
        case S_IFSOCK: return "socket"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        default: return "special file"
        }
    }

    private static func openError(path: String, errno code: Int32) -> ImagingError {
        switch code {
        case ENOENT, ENOTDIR: return .fileNotFound(path: path)
        default: return .unreadable(path: path, reason: String(cString: strerror(code)))
        }
    }

    /// Describes the first bytes so "unsupported format" says what the file looks like.
    private static func sniff(_ source: UnsafeMutablePointer<VipsSource>) -> String {
        var data: UnsafeMutablePointer<UInt8>?
        let count = vips_source_sniff_at_most(source, &data, 8)
        guard count > 0, let bytes = data else { return "the data is empty" }
        let hex = UnsafeBufferPointer(start: bytes, count: Int(count))
            .map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined(separator: " ")
        return "first bytes \(hex)"
    }
}
