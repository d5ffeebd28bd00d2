import Imaging

/// Why an upscale could not run; each case names what to change.
public enum UpscaleError: Error, CustomStringConvertible, Equatable {
    /// Sample layouts the tiler does not handle (e.g. CMYK, float samples).
    case unsupportedImage(detail: String)
    /// Tile/overlap/size parameters that cannot work with this model or image.
    case invalidParameter(field: String, reason: String)

    public var description: String {
        switch self {
        case let .unsupportedImage(detail): return "cannot upscale this image: \(detail)"
        case let .invalidParameter(field, reason): return "\(field): \(reason)"
        }
    }
}
