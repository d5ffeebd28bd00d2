import PluginAPI
import Preprocessors
import StrictJSON

/// `preprocess`'s params, decoded and checked once through the library's `ControlPreprocessing.decode` (the
/// reader ControlNet's `control[i]` entries use too); a bad value is a -32602 naming its member.
struct PreprocessRequest {
    let preprocessor: ControlPreprocessor
    let parameters: PreprocessorParameters

    init(_ params: [String: JSONValue]) throws {
        let decoded: ControlPreprocessing?
        do throws(PreprocessorError) { decoded = try ControlPreprocessing.decode(from: params) } catch {
            throw Self.pluginError(error)
        }
        guard let decoded else {
            // The schema lists only real preprocessors; "none" would return the image unchanged.
            throw PluginError.invalidParam(field: "preprocess", reason: "is required: one of \(ControlPreprocessor.names.joined(separator: ", "))")
        }
        preprocessor = decoded.preprocessor
        parameters = decoded.parameters
    }

    /// The -32602 (or image error) a preprocessor error becomes.
    static func pluginError(_ error: PreprocessorError) -> PluginError {
        switch error {
        case .unknownPreprocessor(let field, _, _), .invalidParameter(let field, _):
            return .invalidParam(field: field, reason: error.reason)
        case .unsupportedImage:
            return .unsupportedImage(field: "image", detail: error.reason)
        }
    }
}
