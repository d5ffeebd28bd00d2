import DiffusionProtocol
import StrictJSON

/// Failures a plugin (or the context helpers) reports; each maps to one JSON-RPC error whose message says
/// what to do next.
public enum PluginError: Error, Sendable, Equatable {
    case invalidParam(field: String, reason: String)
    case fileNotFound(field: String, path: String)
    case notARegularFile(field: String, path: String, kind: String)
    case fileTooLarge(field: String, path: String, bytes: Int, limit: Int)
    case unreadable(field: String, path: String, detail: String)
    case pathNotAllowed(field: String, path: String, reason: String)
    case outputExists(field: String, path: String)
    case unsupportedImage(field: String, detail: String)
    case imageTooLarge(field: String, width: Int, height: Int, limit: String)
    /// A streamed output over `--max-output-pixels` or its format's limits.
    case outputTooLarge(field: String, width: Int, height: Int, limit: OutputLimit)
    case writeFailed(field: String, path: String, detail: String)
    case cancelled(reason: String)
    case failed(String)

    public var rpcError: RPCError {
        switch self {
        case .invalidParam(let field, let reason):
            return .invalidParams(field: field, reason: reason)
        case .fileNotFound(let field, let path):
            return RPCError(code: RPCErrorCode.fileNotFound,
                            message: "\(field): no file at \(path); check the path (it must be absolute and readable by the daemon's user)",
                            data: ["field": .string(field), "path": .string(path)])
        case .notARegularFile(let field, let path, let kind):
            return RPCError(code: RPCErrorCode.fileNotFound,
                            message: "\(field): \(path) is a \(kind), not a regular file; give the path of an image file",
                            data: ["field": .string(field), "path": .string(path), "kind": .string(kind)])
        case .fileTooLarge(let field, let path, let bytes, let limit):
            return RPCError(code: RPCErrorCode.imageTooLarge,
                            message: "\(field): \(path) is \(bytes) bytes, more than the daemon's input limit of \(limit) bytes",
                            data: ["field": .string(field), "path": .string(path), "bytes": JSONValue(bytes), "limit": JSONValue(limit)])
        case .unreadable(let field, let path, let detail):
            return RPCError(code: RPCErrorCode.fileNotFound,
                            message: "\(field): cannot read \(path): \(detail); check its permissions",
                            data: ["field": .string(field), "path": .string(path)])
        case .pathNotAllowed(let field, let path, let reason):
            return RPCError(code: RPCErrorCode.pathNotAllowed,
                            message: "\(field): \(path) is not allowed: \(reason)",
                            data: ["field": .string(field), "path": .string(path), "reason": .string(reason)])
        case .outputExists(let field, let path):
            return RPCError(code: RPCErrorCode.outputExists,
                            message: "\(field): \(path) already exists; choose another path or pass \"overwrite\": true",
                            data: ["field": .string(field), "path": .string(path)])
        case .unsupportedImage(let field, let detail):
            return RPCError(code: RPCErrorCode.unsupportedImage,
                            message: "\(field): not a supported image (\(detail)); send PNG, JPEG, WebP or TIFF",
                            data: ["field": .string(field), "detail": .string(detail)])
        case .imageTooLarge(let field, let width, let height, let limit):
            return RPCError(code: RPCErrorCode.imageTooLarge,
                            message: "\(field): image is \(width)x\(height), over the daemon's decoded-image limit (\(limit)); send a smaller image, or start the daemon with a higher --max-image-pixels",
                            data: ["field": .string(field), "width": JSONValue(width), "height": JSONValue(height)])
        case .outputTooLarge(let field, let width, let height, let limit):
            var data: [String: JSONValue] = ["field": .string(field), "width": JSONValue(width), "height": JSONValue(height),
                                             "limit": .string(limit.name), "maximum": JSONValue(limit.maximum)]
            if let flag = limit.flag { data["flag"] = .string(flag) }
            return RPCError(code: RPCErrorCode.imageTooLarge,
                            message: "\(field): the output would be \(width)x\(height), over \(limit.name) (\(limit.maximum)): \(limit.remedy)",
                            data: .object(data))
        case .writeFailed(let field, let path, let detail):
            return RPCError(code: RPCErrorCode.writeFailed,
                            message: "\(field): could not write \(path): \(detail); check the folder exists and is writable",
                            data: ["field": .string(field), "path": .string(path)])
        case .cancelled(let reason):
            return .cancelled(reason)
        case .failed(let detail):
            return RPCError(code: RPCErrorCode.pluginFailed, message: detail)
        }
    }
}

/// Errors that know their JSON-RPC form. Plugins may define their own error types conforming to this.
public protocol RPCErrorConvertible: Error {
    var rpcError: RPCError { get }
}

extension PluginError: RPCErrorConvertible {}
