import StrictJSON
import DiffusionProtocol
import PluginAPI

/// Result-schema pieces of the generation operations (what `GenerationRunner` and `GeneratedImages` return).
public enum GenerationResultSchema {
    static let seed: JSONValue = ["type": "integer", "minimum": 0, "description": "the seed this image was made with"]
    public static let seeds: JSONValue = ["type": "array", "minItems": 1, "items": ["type": "integer", "minimum": 0],
                                          "description": "seed of each image, in order"]
    public static let model: JSONValue = ["type": "string", "minLength": 1, "description": "the model's name in the models directory"]

    /// generate's result members; img2img adds its own to them.
    public static var txt2imgProperties: [String: JSONValue] {
        [
            "images": ["type": "array", "minItems": 1, "items": ResultSchemas.image(
                description: "one per image: path (file written) or base64 (inline), with its seed and parameters text",
                extra: ["seed": seed, "parameters": ["type": "string", "description": "A1111 generation parameters, also stored in the PNG's \"parameters\" text chunk"]])],
            "seeds": seeds,
            "model": model,
            "sampler": ["type": "string", "minLength": 1, "description": "API name of the sampler that ran (see capabilities.samplers)"],
            "scheduler": ["type": "string", "minLength": 1, "description": "sigma schedule that ran (see capabilities.schedulers)"],
            "steps": ["type": "integer", "minimum": 1, "description": "sampling steps that ran (img2img: steps × strength)"],
            "timings": ResultSchemas.object(
                ["unet_seconds": ["type": "number", "minimum": 0], "loop_seconds": ["type": "number", "minimum": 0],
                 "total_seconds": ["type": "number", "minimum": 0]],
                required: ["unet_seconds", "loop_seconds", "total_seconds"],
                description: "set by the operation instead of the daemon's queue_ms/run_ms: seconds in the UNet, in the sampling loop and in the whole job"),
            "ignored": SDXLSchema.ignoredResult,
            "refiner": RefinerResult.schema,
            "adapters": T2IAdapterParams.resultSchema,
            "loras": LoRASchema.result,
            "precision": PrecisionParam.resultProperty,
        ].merging(EmbeddingsAndHypernetworksResult.properties) { own, _ in own }
    }

    public static let txt2imgRequired = ["images", "seeds", "model", "sampler", "scheduler", "steps", "timings"]

    /// inpaint's and outpaint's result with a model: `GeneratedImages.repaintResult` plus the operation's `extra`.
    public static func repaint(extra: [String: JSONValue], extraRequired: [String], description: String) -> JSONValue {
        var properties: [String: JSONValue] = [
            "images": ["type": "array", "minItems": 1,
                       "items": ResultSchemas.image(description: "one per image, with its seed", extra: ["seed": seed])],
            "image": ResultSchemas.image(description: "the first of images (for batch_size 1 the only one)", extra: ["seed": seed]),
            "model": model,
            "seeds": seeds,
            "timings": ResultSchemas.daemonTimings(),
            "ignored": SDXLSchema.ignoredResult,
            "adapters": T2IAdapterParams.resultSchema,
            "loras": LoRASchema.result,
            "precision": PrecisionParam.resultProperty,
        ]
        for (k, v) in extra { properties[k] = v }
        for (k, v) in EmbeddingsAndHypernetworksResult.properties { properties[k] = v }
        return ResultSchemas.object(properties, required: ["images", "image", "model", "seeds"] + extraRequired + ["timings"],
                                    description: description)
    }
}
