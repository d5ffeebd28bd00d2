import StrictJSON
import DiffusionProtocol
import Engine
import PluginAPI
import Sampling

/// The params-schema properties the generation operations share; defaults quoted from `GenerationDefaults`.
public enum GenerationSchema {
    public static let maxBatch = 16

    /// Properties common to generate, img2img, inpaint and outpaint (each adds its own and may redefine `model`).
    public static var commonProperties: [String: JSONValue] {
        sharedProperties.merging(SDXLSchema.properties) { shared, _ in shared }
    }

    private static var sharedProperties: [String: JSONValue] {
        [
            "model": modelProperty(description: "model name in the models directory: a diffusers folder name or a single-file checkpoint name (extension optional); loaded on first use, then resident"),
            "prompt": ["type": "string", "maxLength": 20000,
                       "description": "A1111 syntax: (word:1.3), (word) = x1.1, [word] = /1.1, \\( \\) literal, BREAK; longer than 75 tokens = several 75-token chunks; an embedding's name (a file of <models>/embeddings, path without extension) uses it; <hypernet:NAME:WEIGHT> tags are removed and applied; <lora:NAME:W> or <lora:NAME:te=W1:unet=W2> applies a file of <models>/loras (the tag is removed from the text)"],
            "negative_prompt": ["type": "string", "maxLength": 20000, "description": "same syntax (embeddings and <lora:…> tags too; hypernet tags are removed, not applied); default empty"],
            "hypernetworks": ["type": "array", "maxItems": 16,
                              "description": "A1111 hypernetworks of <models>/hypernetworks to apply to the UNet's attentions, after those of <hypernet:...> prompt tags",
                              "items": ["type": "object", "additionalProperties": false, "required": ["name"],
                                        "properties": ["name": ["type": "string", "minLength": 1, "maxLength": 1024,
                                                                "description": "path in the hypernetworks folder without extension"],
                                                       "weight": ["type": "number", "minimum": -10, "maximum": 10,
                                                                  "description": "strength (default 1)"]]]],
            "loras": LoRASchema.property,
            "sampler": ["type": "string", "maxLength": 64,
                        "description": .string("API name (\(SamplerKind.allCases.map(\.rawValue).joined(separator: ", "))) or A1111 name (\"Euler a\", \"DPM++ 2M Karras\"); default \(GenerationDefaults.samplerName)"),
                        "examples": .array(SamplerKind.allCases.map { .string($0.rawValue) })],
            "scheduler": ["type": "string", "maxLength": 32,
                          "description": .string("sigma schedule: \(SigmaScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")) or automatic (default: what the sampler name says, else normal)"),
                          "examples": .array(SigmaScheduleKind.allCases.map { .string($0.rawValue) })],
            "steps": ["type": "integer", "minimum": 1, "maximum": 1000, "description": .string("inference steps (default \(GenerationDefaults.steps))")],
            "cfg_scale": ["type": "number", "minimum": 0, "maximum": 100,
                          "description": .string("classifier-free guidance scale (default \(GenerationDefaults.cfgScale)); <= 1 skips the unconditional pass")],
            "guidance_rescale": ["type": "number", "minimum": 0, "maximum": 1,
                                 "description": .string("diffusers' guidance_rescale for v-prediction/zero-SNR models (default \(plain(GenerationDefaults.guidanceRescale)))")],
            "clip_skip": ["type": "integer", "minimum": 1, "maximum": 24,
                          "description": .string("\(GenerationDefaults.clipSkip) = last CLIP layer (default), 2 = penultimate, ...")],
            "eta": ["type": "number", "minimum": 0, "maximum": 1, "description": .string("DDIM eta (default \(plain(GenerationDefaults.eta)))")],
            "seed": ["type": "integer", "minimum": -1, "maximum": .integer(Int64.max),
                     "description": "seed of the first image; image i uses seed + i. Missing or -1: a random 32-bit seed, reported in the result"],
            "rng": ["type": "string", "enum": ["cpu", "cuda", "gpu", "nv"],
                    "description": "noise family: cpu = torch CPU generator (diffusers, ComfyUI; default), cuda/gpu/nv = torch CUDA Philox (A1111, stable-diffusion.cpp)"],
            "batch_size": ["type": "integer", "minimum": 1, "maximum": JSONValue(maxBatch),
                           "description": .string("images to make (default \(GenerationDefaults.batchSize))")],
            "output": ImageSchemas.output(description: "where to put the image (default inline PNG); with batch_size > 1 a file path gets -1, -2, ... before its extension"),
            "outputs": ["type": "array", "minItems": 1, "maxItems": JSONValue(maxBatch), "items": ImageSchemas.output(description: "one per image"),
                        "description": "one destination per image (instead of output); length must equal batch_size"],
            "control": ControlSchema.property,
            "precision": PrecisionParam.property,
            "preview": ["type": "object", "additionalProperties": false, "required": ["every", "path"],
                        "description": "write a cheap latent->RGB preview (no VAE) every N steps to a PNG file (overwritten)",
                        "properties": ["every": ["type": "integer", "minimum": 1, "maximum": 1000],
                                       "path": ["type": "string", "minLength": 1, "maxLength": 4096]]],
        ]
    }

    /// The `model` property with an operation's own description (inpaint and outpaint make it optional).
    public static func modelProperty(description: String) -> JSONValue {
        ["type": "string", "minLength": 1, "maxLength": 255, "description": .string(description)]
    }

    /// A size property: multiples of 8 up to the pipeline's largest side.
    public static func sizeProperty(_ what: String, defaultText: String) -> JSONValue {
        ["type": "integer", "minimum": 8, "maximum": JSONValue(StableDiffusionPipeline.maxSide),
         "description": .string("\(what) in pixels, a multiple of 8 (\(defaultText))")]
    }

    /// A strength property ("how much of the schedule to run ...").
    public static func strengthProperty(_ description: String) -> JSONValue {
        ["type": "number", "exclusiveMinimum": 0, "maximum": 1, "description": .string(description)]
    }

    /// 0.0 -> "0", 0.75 -> "0.75": how the descriptions have always written these defaults.
    public static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
