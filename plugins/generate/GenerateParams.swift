import StrictJSON
import DiffusionProtocol
import GenerationKit

/// `generate`'s params: only the shared generation members (sizes default to the model's, `LoadedModel.defaultSize`).
struct GenerateParams {
    var generation: GenerationParams

    init(_ params: [String: JSONValue]) {
        generation = GenerationParams(params)
    }
}
