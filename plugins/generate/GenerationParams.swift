import DiffusionProtocol
import Engine
import Foundation
import PluginAPI
import Sampling
import StrictJSON

/// Request fields shared by `generate` and `img2img`, their schema and their parsing into a
/// `GenerationRequest`.
public enum GenerationParams {
    public static let defaultSampler = "euler"
    public static let defaultSteps = 20
    public static let defaultCFG = 7.0
    public static let maxBatch = 16

    /// Schema properties common to both operations (img2img adds image, strength, resize_mode).
    public static var commonProperties: [String: JSONValue] {
        [
            "model": ["type": "string", "minLength": 1, "maxLength": 255,
                      "description": "model name in the models directory: a diffusers folder name or a single-file checkpoint name (extension optional); loaded on first use, then resident"],
            "prompt": ["type": "string", "maxLength": 20000,
                       "description": "A1111 syntax: (word:1.3), (word) = x1.1, [word] = /1.1, \\( \\) literal, BREAK; longer than 75 tokens = several 75-token chunks"],
            "negative_prompt": ["type": "string", "maxLength": 20000, "description": "same syntax; default empty"],
            "sampler": ["type": "string", "maxLength": 64,
                        "description": .string("API name (\(SamplerKind.allCases.map(\.rawValue).joined(separator: ", "))) or A1111 name (\"Euler a\", \"DPM++ 2M Karras\"); default \(defaultSampler)"),
                        "examples": .array(SamplerKind.allCases.map { .string($0.rawValue) })],
            "scheduler": ["type": "string", "maxLength": 32,
                          "description": .string("sigma schedule: \(SigmaScheduleKind.allCases.map(\.rawValue).joined(separator: ", ")) or automatic (default: what the sampler name says, else normal)"),
                          "examples": .array(SigmaScheduleKind.allCases.map { .string($0.rawValue) })],
            "steps": ["type": "integer", "minimum": 1, "maximum": 1000, "description": .string("inference steps (default \(defaultSteps))")],
            "cfg_scale": ["type": "number", "minimum": 0, "maximum": 100,
                          "description": .string("classifier-free guidance scale (default \(defaultCFG)); <= 1 skips the unconditional pass")],
            "guidance_rescale": ["type": "number", "minimum": 0, "maximum": 1,
                                 "description": "diffusers' guidance_rescale for v-prediction/zero-SNR models (default 0)"],
            "clip_skip": ["type": "integer", "minimum": 1, "maximum": 24, "description": "1 = last CLIP layer (default), 2 = penultimate, ..."],
            "eta": ["type": "number", "minimum": 0, "maximum": 1, "description": "DDIM eta (default 0)"],
            "seed": ["type": "integer", "minimum": -1, "maximum": .integer(Int64.max),
                     "description": "seed of the first image; image i uses seed + i. Missing or -1: a random 32-bit seed, reported in the result"],
            "rng": ["type": "string", "enum": ["cpu", "cuda", "gpu", "nv"],
                    "description": "noise family: cpu = torch CPU generator (diffusers, ComfyUI; default), cuda/gpu/nv = torch CUDA Philox (A1111, stable-diffusion.cpp)"],
            "batch_size": ["type": "integer", "minimum": 1, "maximum": JSONValue(maxBatch), "description": "images to make (default 1)"],
            "output": ImageSchemas.output(description: "where to put the image (default inline PNG); with batch_size > 1 a file path gets -1, -2, ... before its extension"),
            "outputs": ["type": "array", "minItems": 1, "maxItems": JSONValue(maxBatch), "items": ImageSchemas.output(description: "one per image"),
                        "description": "one destination per image (instead of output); length must equal batch_size"],
            "preview": ["type": "object", "additionalProperties": false, "required": ["every", "path"],
                        "description": "write a cheap latent->RGB preview (no VAE) every N steps to a PNG file (overwritten)",
                        "properties": ["every": ["type": "integer", "minimum": 1, "maximum": 1000],
                                       "path": ["type": "string", "minLength": 1, "maxLength": 4096]]],
        ]
    }

    /// Parses everything but the image fields; sizes default to 512.
    public static func request(from params: [String: JSONValue]) throws -> GenerationRequest {
        var r = GenerationRequest(prompt: params["prompt"]?.stringValue ?? "")
        r.negativePrompt = params["negative_prompt"]?.stringValue ?? ""
        do {
            r.sampler = try SamplerChoice.parse(sampler: params["sampler"]?.stringValue ?? defaultSampler,
                                                scheduler: params["scheduler"]?.stringValue)
        } catch let e as SamplingError {
            throw PluginError.invalidParam(field: params["scheduler"] == nil ? "sampler" : "sampler/scheduler", reason: e.description)
        }
        r.steps = params["steps"]?.intValue ?? defaultSteps
        r.cfgScale = params["cfg_scale"]?.doubleValue ?? defaultCFG
        r.guidanceRescale = params["guidance_rescale"]?.doubleValue ?? 0
        r.clipSkip = params["clip_skip"]?.intValue ?? 1
        r.eta = params["eta"]?.doubleValue ?? 0
        r.batchSize = params["batch_size"]?.intValue ?? 1
        r.width = params["width"]?.intValue ?? 512
        r.height = params["height"]?.intValue ?? 512
        if let name = params["rng"]?.stringValue {
            guard let kind = RNGKind(name: name) else { throw PluginError.invalidParam(field: "rng", reason: "must be cpu, cuda, gpu or nv") }
            r.rng = kind
        }
        let seed = params["seed"]?.intValue
        r.seed = Seeds.resolve(seed.map(Int64.init))
        return r
    }

    /// Size properties: multiples of 8.
    public static func sizeProperty(_ what: String, defaultText: String) -> JSONValue {
        ["type": "integer", "minimum": 8, "maximum": JSONValue(StableDiffusionPipeline.maxSide), "description": .string("\(what) in pixels, a multiple of 8 (\(defaultText))")]
    }

    public static func checkSize(_ r: GenerationRequest) throws {
        if r.width % 8 != 0 { throw PluginError.invalidParam(field: "width", reason: "\(r.width) is not a multiple of 8") }
        if r.height % 8 != 0 { throw PluginError.invalidParam(field: "height", reason: "\(r.height) is not a multiple of 8") }
    }

    /// One destination per image, checked before any work.
    public static func outputs(_ params: [String: JSONValue], batch: Int, context: JobContext) throws -> [ImageOutput] {
        if let list = params["outputs"]?.arrayValue {
            guard params["output"] == nil else {
                throw PluginError.invalidParam(field: "outputs", reason: "give either output or outputs, not both")
            }
            guard list.count == batch else {
                throw PluginError.invalidParam(field: "outputs", reason: "has \(list.count) entries for batch_size \(batch)")
            }
            return try list.enumerated().map { try context.resolveOutput($1, field: "outputs[\($0)]") }
        }
        guard batch > 1, case .object(var o)? = params["output"], let path = o["path"]?.stringValue else {
            let one = try context.resolveOutput(params["output"], field: "output")
            return Array(repeating: one, count: batch)
        }
        let ns = path as NSString
        return try (1...batch).map { i in
            o["path"] = .string(ns.deletingPathExtension + "-\(i)." + ns.pathExtension)
            return try context.resolveOutput(.object(o), field: "output")
        }
    }
}
