import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON

extension PluginError {
    /// Attaches the request field to an imaging failure so the client knows which image was bad.
    public init(_ error: ImagingError, field: String) {
        switch error {
        case .fileNotFound(let path): self = .fileNotFound(field: field, path: path)
        case .notARegularFile(let path, let kind): self = .notARegularFile(field: field, path: path, kind: kind)
        case .unreadable(let path, let reason): self = .unreadable(field: field, path: path, detail: reason)
        case .unsupportedFormat(_, let detail): self = .unsupportedImage(field: field, detail: detail)
        case .tooLarge(let w, let h, let limit): self = .imageTooLarge(field: field, width: w, height: h, limit: limit)
        case .decodeFailed(_, let detail):
            self = .unsupportedImage(field: field, detail: "damaged or truncated image: \(detail)")
        case .writeFailed(let path, let detail): self = .writeFailed(field: field, path: path, detail: detail)
        case .outputExists(let path): self = .outputExists(field: field, path: path)
        case .sizeMismatch, .invalidArgument: self = .invalidParam(field: field, reason: error.description)
        case .operationFailed: self = .failed("\(field): \(error.description)")
        case .cancelled: self = .cancelled(reason: error.description)
        }
    }
}

extension JobContext {
    /// Reads and decodes an image parameter: path policy, base64 limit, then the header limits before decoding.
    /// `limits` defaults to the job's (the daemon's `--max-image-pixels`).
    public func loadImage(_ value: JSONValue?, field: String, limits: ImageLimits? = nil) throws -> VipsImage {
        let input = try readImage(value, field: field)
        let sourceField: String
        switch input.source {
        case .file: sourceField = "\(field).path"
        case .inline: sourceField = "\(field).base64"
        }
        do {
            return try VipsImage.load(data: input.bytes, limits: limits ?? imageLimits)
        } catch let e as ImagingError {
            throw PluginError(e, field: sourceField)
        }
    }

    /// An image parameter's header only (width, height, bands: a lazy image whose pixels are never decoded), for
    /// estimates made before the job: a file is opened under the path policy and read no further than its header
    /// needs, instead of whole as `loadImage` reads it.
    public func imageHeader(_ value: JSONValue?, field: String, limits: ImageLimits? = nil) throws -> VipsImage {
        guard case .object(let o)? = value, case .string(let path)? = o["path"] else {
            let input = try readImage(value, field: field)
            do { return try VipsImage.load(data: input.bytes, limits: limits ?? imageLimits, mode: .sequential) } catch let e as ImagingError {
                throw PluginError(e, field: "\(field).base64")
            }
        }
        return try pathPolicy.withInput(path: path, field: "\(field).path") { fd, _ in
            do { return try VipsImage.load(descriptor: fd, name: path, limits: limits ?? imageLimits, mode: .sequential) } catch let e as ImagingError {
                throw PluginError(e, field: "\(field).path")
            }
        }
    }

    /// Writes an image to its destination: atomically to a file, or encoded inline. Returns the result's
    /// `image` object: `{"path"|"base64", "format", "width", "height", "bands", "bit_depth"}`.
    public func deliver(_ image: VipsImage, to output: ImageOutput, field: String) throws -> JSONValue {
        var described: [String: JSONValue] = [
            "width": JSONValue(image.width), "height": JSONValue(image.height),
            "bands": JSONValue(image.bands), "bit_depth": JSONValue(image.bitDepth),
        ]
        do {
            switch output {
            case .file(let path, let overwrite):
                guard let format = ImageFormat(path: path) else {
                    throw PluginError.invalidParam(field: "\(field).path", reason: "has no supported image extension")
                }
                try image.write(to: path, overwrite: overwrite)
                described["path"] = .string(path)
                described["format"] = .string(format.rawValue)
            case .inline(let name):
                guard let format = ImageFormat(rawValue: name) else {
                    throw PluginError.invalidParam(field: "\(field).format", reason: "must be png, jpeg, webp or tiff")
                }
                let bytes = try image.encoded(format: format)
                described["base64"] = .string(Data(bytes).base64EncodedString())
                described["format"] = .string(format.rawValue)
            }
        } catch let e as ImagingError {
            throw PluginError(e, field: "\(field).path")
        }
        return .object(described)
    }
}

/// The decoded-image budget jobs run with. It protects memory: a decoded image is held whole, so the operator's
/// `--max-image-pixels` may raise the default as well as lower it, and the decoded-bytes bound follows it at
/// the default's ratio (8 bytes a pixel: 16-bit RGBA). Also for `capabilities` (the daemon does not link imaging).
public enum ImageBudget {
    public static func maxPixels(configured: Int?) -> Int { configured ?? ImageLimits.default.maxPixels }

    public static func limits(configured: Int?) -> ImageLimits {
        var limits = ImageLimits.default
        guard let configured else { return limits }
        limits.maxPixels = configured
        let (bytes, overflow) = configured.multipliedReportingOverflow(by: 8)
        limits.maxDecodedBytes = overflow ? .max : max(bytes, 1)
        return limits
    }
}
