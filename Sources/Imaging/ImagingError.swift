import Foundation

/// Everything that can go wrong while reading, transforming or writing an image.
/// Each case carries the path or size involved so the message tells a person what to fix.
public enum ImagingError: Error, Equatable, Sendable {
    case fileNotFound(path: String)
    /// The path names a directory, FIFO, socket or device: only regular files are read (a FIFO could block forever).
    case notARegularFile(path: String, kind: String)
    case unreadable(path: String, reason: String)
    /// Not a format the daemon decodes (PNG, JPEG, WebP, TIFF, GIF), or an output extension it cannot write.
    case unsupportedFormat(source: String, detail: String)
    /// Rejected from the header, before any pixel is decoded.
    case tooLarge(width: Int, height: Int, limit: String)
    /// The header was fine but the pixels are damaged or truncated.
    case decodeFailed(source: String, detail: String)
    case writeFailed(path: String, detail: String)
    case outputExists(path: String)
    /// Two images (or an image and a mask) that must match in size do not.
    case sizeMismatch(what: String, expected: ImageSize, actual: ImageSize)
    case invalidArgument(String)
    /// A libvips operation failed on data that had already been validated (reports libvips' own message).
    case operationFailed(operation: String, detail: String)
    /// A long pixel loop (PatchMatch) stopped because its caller's cancellation check said so.
    case cancelled(operation: String)
}

extension ImagingError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "image file not found: \(path) (check the path; it must be absolute and readable by the daemon)"
        case .notARegularFile(let path, let kind):
            return "\(path) is a \(kind), not a regular file: give the path of an image file"
        case .unreadable(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .unsupportedFormat(let source, let detail):
            return "unsupported image format for \(source): \(detail); use PNG, JPEG, WebP or TIFF"
        case .tooLarge(let width, let height, let limit):
            return "image is \(width)x\(height), over the limit (\(limit)); downscale it first or raise the limit"
        case .decodeFailed(let source, let detail):
            return "cannot decode \(source): \(detail) (the file is damaged or truncated; re-export it)"
        case .writeFailed(let path, let detail):
            return "cannot write \(path): \(detail)"
        case .outputExists(let path):
            return "output \(path) already exists; choose another path or set overwrite"
        case .sizeMismatch(let what, let expected, let actual):
            return "\(what) is \(actual.width)x\(actual.height) but the image is \(expected.width)x\(expected.height); "
                + "resize it or ask for it to be resized"
        case .invalidArgument(let detail):
            return "invalid argument: \(detail)"
        case .operationFailed(let operation, let detail):
            return "image operation \(operation) failed: \(detail)"
        case .cancelled(let operation):
            return "\(operation) was cancelled"
        }
    }
}

extension ImagingError: LocalizedError {
    public var errorDescription: String? { description }
}

/// A width and a height, in pixels.
public struct ImageSize: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }
    public var description: String { "\(width)x\(height)" }
}
