import Engine
import PluginAPI
import StrictJSON

/// The `refiner` member of `generate`, `img2img` and `inpaint`: the SDXL ensemble of experts (diffusers'
/// `denoising_end` / `denoising_start`, A1111's "refiner switch at"). The request's `model` runs the schedule up
/// to `switch_at`, then `refiner.model` runs the rest from those latents and its VAE decodes.
public struct RefinerParams: Sendable, Equatable {
    public var model: String
    public var switchAt: Double
    /// The refiner's aesthetic micro-conditioning, for its conditional and unconditional rows.
    public var aestheticScore: Double
    public var negativeAestheticScore: Double

    /// A1111's and diffusers' documented example; the scores default to diffusers' (`AestheticScores.defaults`).
    public static let defaultSwitchAt = 0.8

    /// The member of `params`, nil when absent. Checked here as well as by the schema, so engine-level callers
    /// get the same -32602 naming the member.
    public static func parse(_ params: [String: JSONValue]) throws -> RefinerParams? {
        guard let value = params["refiner"] else { return nil }
        guard let object = value.objectValue else {
            throw PluginError.invalidParam(field: "refiner", reason: "must be an object {model, switch_at, aesthetic_score, negative_aesthetic_score}")
        }
        guard let model = object["model"]?.stringValue, !model.isEmpty else {
            throw PluginError.invalidParam(field: "refiner.model", reason: "is required: the refiner model's name")
        }
        let switchAt = try number(object, "switch_at", default: defaultSwitchAt)
        guard switchAt > 0, switchAt < 1 else {
            throw PluginError.invalidParam(field: "refiner.switch_at", reason: "must be in (0, 1), got \(switchAt)")
        }
        return RefinerParams(model: model, switchAt: switchAt,
                             aestheticScore: try number(object, "aesthetic_score", default: AestheticScores.defaults.positive),
                             negativeAestheticScore: try number(object, "negative_aesthetic_score",
                                                                default: AestheticScores.defaults.negative))
    }

    public var aestheticScores: AestheticScores {
        AestheticScores(positive: aestheticScore, negative: negativeAestheticScore)
    }

    private static func number(_ object: [String: JSONValue], _ key: String, default fallback: Double) throws -> Double {
        guard let value = object[key] else { return fallback }
        guard let number = value.doubleValue, number.isFinite else {
            throw PluginError.invalidParam(field: "refiner.\(key)", reason: "must be a finite number")
        }
        return number
    }
}
