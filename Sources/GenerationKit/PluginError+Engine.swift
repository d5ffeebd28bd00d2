import Engine
import Imaging
import PluginAPI
import Sampling

extension PluginError {
    /// An engine failure as the client sees it: parameter errors name their own field, size errors `sizeField`
    /// and model errors `modelField` (for the upscale refine: "refine" and "refine.model").
    public init(_ error: EngineError, sizeField: String, modelField: String) {
        switch error {
        case .invalidSize: self = .invalidParam(field: sizeField, reason: error.description)
        case let .invalidParameter(field, reason): self = .invalidParam(field: field, reason: reason)
        case .cancelled: self = .cancelled(reason: "request cancelled")
        case .unsupportedModel, .modelNotFound, .upscalerNotFound, .kindNotFound, .modelLoadFailed, .invalidModelName, .noModelsDirectory:
            self = .invalidParam(field: modelField, reason: error.description)
        }
    }

    /// A sampling-plan failure: the schedule cannot cover `strength` (img2img) or `steps`.
    public init(planning error: Error, request: GenerationRequest) {
        let field: String
        switch error as? SamplingError {
        case .invalidStrength? where request.initImage != nil: field = "strength"
        default: field = "steps"
        }
        self = .invalidParam(field: field, reason: "\(error)")
    }
}

/// Attributes imaging and inpainting failures to the request field whose value caused them.
public enum FieldErrors {
    /// Runs `body`, naming `field` (the mask, the extension, the image) in any imaging or inpainting error.
    public static func naming<T>(_ field: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ImagingError {
            throw PluginError(e, field: field)
        } catch let e as InpaintError {
            throw PluginError.invalidParam(field: field, reason: e.description)
        }
    }
}
