import PluginAPI
import StrictJSON
import Tensor

/// The `precision` member every generation operation takes (and `upscale`'s `refine`): fp32, bf16 or auto,
/// overriding the daemon's `--precision`. The schema's enum rejects anything else before `run` (-32602).
public enum PrecisionParam {
    public static var property: JSONValue {
        ["type": "string", "enum": .array(PrecisionSetting.names.map { .string($0) }),
         "description": "compute precision: fp32 (reference, bit-identical), bf16 (bf16 GEMMs with fp32 accumulation; norms, softmax, residuals and the sampler stay fp32) or auto (bf16 where measured faster on this CPU, see capabilities.precision); default: the daemon's --precision"]
    }

    public static var resultProperty: JSONValue {
        ["type": "string", "enum": .array(ComputePrecision.allCases.map { .string($0.rawValue) }),
         "description": "the precision the models computed in"]
    }

    /// The precision a request's `precision` member asks for (the daemon's when absent).
    public static func resolve(_ value: JSONValue?, field: String = "precision") throws -> ComputePrecision {
        guard let value else { return PrecisionSetting.forRequest(nil) }
        guard let text = value.stringValue, let setting = PrecisionSetting(rawValue: text) else {
            throw PluginError.invalidParam(field: field, reason: "must be one of " + PrecisionSetting.names.joined(separator: ", "))
        }
        return PrecisionSetting.forRequest(setting)
    }

    /// Runs `body` with its layers computing in `precision` and names that precision in an object result.
    public static func run(_ precision: ComputePrecision, _ body: () throws -> JSONValue) throws -> JSONValue {
        let result = try ComputePrecision.$current.withValue(precision) { try body() }
        guard case .object(var members) = result else { return result }
        members["precision"] = .string(precision.rawValue)
        return .object(members)
    }
}
