import DiffusionProtocol
import Foundation
import StrictJSON

/// Where an input image comes from, after the path policy has been applied and base64 decoded.
public struct ImageInput: Sendable {
    public enum Source: Sendable, Equatable { case file(String), inline }
    public var source: Source
    public var bytes: [UInt8]
}

/// Where an output goes: a file written atomically, or inline base64 in the result.
public enum ImageOutput: Sendable, Equatable {
    case file(path: String, overwrite: Bool)
    case inline(format: String)

    public var formatExtension: String {
        switch self {
        case .file(let path, _): return (path as NSString).pathExtension.lowercased()
        case .inline(let format): return format
        }
    }
}

/// Reusable schema fragments so every plugin describes images the same way.
public enum ImageSchemas {
    public static let inlineFormats: [JSONValue] = ["png", "jpeg", "webp", "tiff"]

    /// `{"path": "/abs.png"}` or `{"base64": "..."}`.
    public static func input(description: String) -> JSONValue {
        [
            "description": .string(description),
            "type": "object",
            "oneOf": [
                ["description": "{\"path\": absolute file path}", "type": "object", "required": ["path"],
                 "properties": ["path": ["type": "string", "minLength": 1, "maxLength": 4096]],
                 "additionalProperties": false],
                ["description": "{\"base64\": encoded file bytes}", "type": "object", "required": ["base64"],
                 "properties": ["base64": ["type": "string", "minLength": 1]],
                 "additionalProperties": false],
            ],
        ]
    }

    /// `{"path": "/abs/out.png", "overwrite": false}` or `{"format": "png"}` (inline base64 in the result).
    public static func output(description: String) -> JSONValue {
        [
            "description": .string(description),
            "type": "object",
            "oneOf": [
                ["description": "{\"path\": absolute file path, \"overwrite\": bool}", "type": "object", "required": ["path"],
                 "properties": ["path": ["type": "string", "minLength": 1, "maxLength": 4096],
                                "overwrite": ["type": "boolean"]],
                 "additionalProperties": false],
                ["description": "{\"format\": png|jpeg|webp|tiff} returned inline as base64", "type": "object",
                 "properties": ["format": ["type": "string", "enum": .array(inlineFormats)]],
                 "additionalProperties": false],
            ],
        ]
    }

    static let fileExtensions: Set<String> = ["png", "jpg", "jpeg", "webp", "tif", "tiff"]
}

extension JobContext {
    /// Reads an image parameter (already schema-validated) into bytes, applying the path policy and the
    /// base64 size limit. Decoding is left to the imaging layer.
    public func readImage(_ value: JSONValue?, field: String) throws -> ImageInput {
        guard case .object(let o)? = value else { throw PluginError.invalidParam(field: field, reason: "is required") }
        if case .string(let path)? = o["path"] {
            return ImageInput(source: .file(path), bytes: try pathPolicy.readInput(path: path, field: "\(field).path"))
        }
        if case .string(let text)? = o["base64"] {
            // 4 base64 characters carry 3 bytes: refuse before decoding anything oversized.
            guard text.utf8.count / 4 * 3 <= pathPolicy.maxInputBytes else {
                throw PluginError.fileTooLarge(field: "\(field).base64", path: "(inline)", bytes: text.utf8.count / 4 * 3, limit: pathPolicy.maxInputBytes)
            }
            guard let data = Data(base64Encoded: text) else {
                throw PluginError.invalidParam(field: "\(field).base64", reason: "is not valid base64 (standard alphabet, with padding)")
            }
            return ImageInput(source: .inline, bytes: [UInt8](data))
        }
        throw PluginError.invalidParam(field: field, reason: "must have \"path\" or \"base64\"")
    }

    /// Parses and checks an output parameter before the work starts. Absent means inline PNG.
    public func resolveOutput(_ value: JSONValue?, field: String) throws -> ImageOutput {
        guard case .object(let o)? = value else { return .inline(format: "png") }
        if case .string(let path)? = o["path"] {
            let overwrite = o["overwrite"]?.boolValue ?? false
            let ext = (path as NSString).pathExtension.lowercased()
            guard ImageSchemas.fileExtensions.contains(ext) else {
                throw PluginError.invalidParam(field: "\(field).path",
                    reason: "must end in .png, .jpg, .jpeg, .webp, .tif or .tiff (the extension picks the format)")
            }
            try pathPolicy.checkOutput(path: path, overwrite: overwrite, field: "\(field).path")
            return .file(path: path, overwrite: overwrite)
        }
        return .inline(format: o["format"]?.stringValue ?? "png")
    }
}
