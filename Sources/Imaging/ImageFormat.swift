/// Output encodings. Chosen from a path's extension for files, named explicitly for inline (base64) output.
public enum ImageFormat: String, CaseIterable, Sendable {
    case png, jpeg, webp, tiff

    /// `.png`, `.jpg`/`.jpeg`, `.webp`, `.tif`/`.tiff` (any letter case); nil for anything else.
    public init?(pathExtension ext: String) {
        switch ext.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        case "webp": self = .webp
        case "tif", "tiff": self = .tiff
        default: return nil
        }
    }

    /// The format named by the last extension of `path`, nil when there is none or it is not supported.
    public init?(path: String) {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        self.init(pathExtension: String(name[name.index(after: dot)...]))
    }

    public var fileExtension: String {
        switch self {
        case .png: return "png"
        case .jpeg: return "jpg"
        case .webp: return "webp"
        case .tiff: return "tif"
        }
    }

    public var mimeType: String {
        switch self {
        case .png: return "image/png"
        case .jpeg: return "image/jpeg"
        case .webp: return "image/webp"
        case .tiff: return "image/tiff"
        }
    }

    /// libvips' saver selection string: the extension plus options in brackets.
    func saverSuffix(_ options: EncodeOptions) -> String {
        switch self {
        case .png:
            return ".png[compression=\(options.pngCompression)]"
        case .jpeg:
            return ".jpg[Q=\(options.quality)]"
        case .webp:
            return options.lossless ? ".webp[lossless=true]" : ".webp[Q=\(options.quality)]"
        case .tiff:
            if options.pyramid { return ".tif[compression=deflate,tile=true,pyramid=true,bigtiff=true]" }
            return options.tiled ? ".tif[compression=deflate,tile=true,bigtiff=true]" : ".tif[compression=deflate]"
        }
    }
}

/// Encoder settings; the defaults favour quality (outputs of a diffusion run are worth keeping).
public struct EncodeOptions: Equatable, Sendable {
    /// JPEG and lossy WebP quality, 1...100.
    public var quality: Int
    public var lossless: Bool
    /// zlib level 0...9 for PNG.
    public var pngCompression: Int
    /// Tiled BigTIFF, for very large outputs.
    public var tiled: Bool
    /// Tiled pyramidal BigTIFF (each level half the previous), for viewers of gigapixel outputs.
    public var pyramid: Bool

    public init(quality: Int = 95, lossless: Bool = false, pngCompression: Int = 6, tiled: Bool = false,
                pyramid: Bool = false) {
        self.quality = min(100, max(1, quality))
        self.lossless = lossless
        self.pngCompression = min(9, max(0, pngCompression))
        self.tiled = tiled || pyramid
        self.pyramid = pyramid
    }
}
