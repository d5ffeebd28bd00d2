import StrictJSON
import DiffusionProtocol
import GenerationKit

/// `generate`'s params: the shared generation members (sizes default to the model's, `LoadedModel.defaultSize`)
/// and the optional SDXL refiner hand-off.
struct GenerateParams {
    var generation: GenerationParams
    var refiner: RefinerParams?

    init(_ params: [String: JSONValue]) throws {
        generation = GenerationParams(params)
        refiner = try RefinerParams.parse(params)
    }
}
