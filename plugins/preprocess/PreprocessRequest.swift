import PluginAPI
import Preprocessors
import StrictJSON

/// `preprocess`'s params, decoded and checked once: the preprocessor and its parameters (defaults from
/// `PreprocessorParameters`); a bad value is a -32602 naming its member.
struct PreprocessRequest {
    let preprocessor: ControlPreprocessor
    let parameters: PreprocessorParameters

    init(_ params: [String: JSONValue]) throws {
        guard let name = params["preprocess"]?.stringValue else {
            throw PluginError.invalidParam(field: "preprocess", reason: "is required: one of \(ControlPreprocessor.names.joined(separator: ", "))")
        }
        do throws(PreprocessorError) {
            preprocessor = try ControlPreprocessor.named(name)
            parameters = try PreprocessorParameters(decoding: params, for: preprocessor)
        } catch {
            throw Self.pluginError(error)
        }
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
