import Engine
import PluginAPI

/// Resolves a `refiner` member into the engine's hand-off: the refiner model from the job's model host (load
/// failures name `refiner.model`), and the role checks of both models.
public enum RefinerLookup {
    public static func handoff(_ params: RefinerParams, base: LoadedModel, context: JobContext) throws -> RefinerHandoff {
        let refiner = try CheckpointLookup.model(named: params.model, context: context, field: "refiner.model",
                                                 stage: "load_refiner")
        try RefinerRoles.check(refiner: refiner)
        return RefinerHandoff(model: refiner, switchAt: params.switchAt, aestheticScores: params.aestheticScores)
    }
}

/// Which model may take which part of a hand-off, by family: a refiner must be an SDXL refiner or SDXL model,
/// and an SDXL refiner (which has no CLIP-L and no txt2img start of its own) cannot be a run's `model`. Beside
/// these, `GenerationCore.validate(refiner:for:)` refuses a refiner whose latents or UNet inputs differ from the
/// base's, naming `refiner.model`.
public enum RefinerRoles {
    public enum Family: Sendable, Equatable { case sdxl, sdxlRefiner, other }

    /// SDXL is a UNet with added (`text_time`) conditioning; its refiner conditions on an aesthetic score.
    public static func family(of model: LoadedModel) -> Family? {
        guard model.takesMicroConditioning else { return .other }
        return model.networks.flags.requiresAestheticsScore ? .sdxlRefiner : .sdxl
    }

    /// -32602 naming `refiner.model` unless `refiner` is SDXL (base or refiner).
    public static func check(refiner: LoadedModel) throws {
        guard let family = family(of: refiner) else { return }
        guard family == .sdxl || family == .sdxlRefiner else {
            throw PluginError.invalidParam(field: "refiner.model",
                reason: "\(refiner.name) is not an SDXL refiner or SDXL model; a hand-off continues an SDXL base's latents")
        }
    }

    /// -32602 naming `field` when `model` is an SDXL refiner asked to start a run (txt2img's `model`).
    public static func check(base model: LoadedModel, field: String = "model") throws {
        guard family(of: model) == .sdxlRefiner else { return }
        throw PluginError.invalidParam(field: field,
            reason: "\(model.name) is an SDXL refiner; it cannot start from noise: name it in refiner.model, or use img2img")
    }
}
