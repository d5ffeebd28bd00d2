import StrictJSON
import Engine
import PluginAPI
import Preprocessors

/// The `control` member of the generation operations: ControlNets steering the run, their residuals summed.
public enum ControlSchema {
    /// More entries multiply the per-step cost; eight is beyond any practical stack.
    public static let maxEntries = 8

    public static var property: JSONValue {
        let resizeModes: JSONValue = .array(ResizeMode.allCases.map { .string($0.rawValue) })
        var entry: JSONValue = [
            "type": "object", "additionalProperties": false, "required": ["model", "image"],
            "properties": [
                "model": ["type": "string", "minLength": 1, "maxLength": 255,
                          "description": "ControlNet name: its path under <models>/controlnet/ without extension (a diffusers folder or a .safetensors/.pth file); must be of the checkpoint's family"],
                "image": ImageSchemas.input(description: "the control image (edges, depth, pose …); read as RGB in [0, 1] (grey for 1-channel models) and fitted to the output size"),
                "weight": ["type": "number", "minimum": 0, "maximum": 10,
                           "description": .string("residual scale, diffusers' controlnet_conditioning_scale (default \(plain(ControlParams.defaultWeight)))")],
                "start": ["type": "number", "minimum": 0, "maximum": 1,
                          "description": "fraction of the steps before which it does not act (default 0); step i of n acts unless i/n < start or (i+1)/n > end"],
                "end": ["type": "number", "minimum": 0, "maximum": 1,
                        "description": "fraction of the steps after which it stops (default 1); must be above start"],
                "guess_mode": ["type": "boolean",
                               "description": "run on the conditional half only, residuals scaled 0.1 → 1 from the first to the last skip (diffusers' guess_mode; default false; always on for shuffle models)"],
                "preprocess": ["type": "string", "enum": .array(([ControlPreprocessing.none] + ControlPreprocessor.names).map { .string($0) }),
                               "description": "model-free preprocessor run on the image first, as the preprocess operation runs it (default none: the image is the control image as given); its parameters are members of the entry"],
                "resize_mode": ["type": "string", "enum": resizeModes,
                                "description": .string("how the control image is fitted to the output size, img2img's rules (default \(ControlParams.defaultResizeMode.rawValue)); in inpaint it is fitted to the image and cut with the same region")],
            ],
        ]
        // The preprocessors' parameters (low, high, threshold, resolution, …) sit in the entry beside its own members.
        if case var .object(object) = entry, var properties = object["properties"]?.objectValue {
            properties.merge(PreprocessorParameters.schemaProperties) { own, _ in own }
            object["properties"] = .object(properties)
            entry = .object(object)
        }
        return ["type": "array", "minItems": 1, "maxItems": JSONValue(maxEntries), "items": entry,
                "description": "ControlNets (several sum their residuals); with refiner they steer the base's steps only (a ControlNet fits the base UNet, not the refiner's)"]
    }

    static func plain(_ x: Double) -> String { GenerationSchema.plain(x) }
}
