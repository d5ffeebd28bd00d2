import Imaging

/// How img2img fits the source image to the requested size (A1111's resize modes).
public enum ResizeMode: String, CaseIterable, Sendable {
    /// Stretch to width × height, ignoring the aspect ratio.
    case justResize = "just resize"
    /// Scale to cover width × height keeping the aspect ratio, then crop the centre.
    case cropAndResize = "crop and resize"
    /// Scale to fit inside width × height keeping the aspect ratio, centre it, and fill the bands on the
    /// sides by stretching the image's edge pixels outwards.
    case resizeAndFill = "resize and fill"

    public init?(name: String) {
        let key = name.lowercased().replacingOccurrences(of: "_", with: " ").trimmingCharacters(in: .whitespaces)
        guard let mode = ResizeMode(rawValue: key) else { return nil }
        self = mode
    }

    /// Lanczos3 as A1111 uses LANCZOS for its resizes.
    public func apply(_ image: VipsImage, width: Int, height: Int) throws -> VipsImage {
        let sw = image.width, sh = image.height
        switch self {
        case .justResize:
            if sw == width, sh == height { return image }
            return try image.resized(width: width, height: height, kernel: .lanczos3)
        case .cropAndResize:
            let ratio = max(Double(width) / Double(sw), Double(height) / Double(sh))
            let rw = max(width, Int((Double(sw) * ratio).rounded())), rh = max(height, Int((Double(sh) * ratio).rounded()))
            let scaled = (rw == sw && rh == sh) ? image : try image.resized(width: rw, height: rh, kernel: .lanczos3)
            return try scaled.cropped(to: PixelRect(x: (rw - width) / 2, y: (rh - height) / 2, width: width, height: height))
        case .resizeAndFill:
            let ratio = min(Double(width) / Double(sw), Double(height) / Double(sh))
            let rw = min(width, max(1, Int((Double(sw) * ratio).rounded())))
            let rh = min(height, max(1, Int((Double(sh) * ratio).rounded())))
            let scaled = (rw == sw && rh == sh) ? image : try image.resized(width: rw, height: rh, kernel: .lanczos3)
            let left = (width - rw) / 2, top = (height - rh) / 2
            if rw == width, rh == height { return scaled }
            return try scaled.padded(left: left, top: top, right: width - rw - left, bottom: height - rh - top, mode: .copy)
        }
    }
}
