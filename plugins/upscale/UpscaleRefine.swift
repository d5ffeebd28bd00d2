import DiffusionProtocol
import Engine
import Foundation
import GenerationKit
import Imaging
import PluginAPI
import StrictJSON
import Tensor

/// The `refine` parameter of `upscale` (SD upscale): after the upscale, `TileRefiner` runs img2img at low
/// strength over overlapping tiles of the result with a resident Stable Diffusion model.
struct UpscaleRefine {
    let refiner: TileRefiner
    /// SDXL-only members of `refine` the model cannot use, named `refine.<member>` (the result's `ignored`).
    let ignored: [String]
    /// The result members of the embeddings and hypernetworks it applied (`EmbeddingsAndHypernetworksResult`).
    var embeddingHypernetworkMembers: [String: JSONValue] = [:]
    /// The result's `loras` member when the refine applied LoRAs (empty otherwise).
    var loraMembers: [String: JSONValue] = [:]
    /// The result's `adapters` member when T2I-Adapters steered the refine (empty otherwise).
    var adapterMembers: [String: JSONValue] = [:]
    /// What the refine's SD model computes in (`refine.precision`, else the daemon's); the upscaler stays fp32.
    var precision: ComputePrecision = .fp32

    /// The refine members plus SDXL's (`prompt_2`, micro-conditioning), as every generation operation has them.
    static var schema: JSONValue {
        guard var object = baseSchema.objectValue, var properties = object["properties"]?.objectValue else { return baseSchema }
        properties.merge(SDXLSchema.properties) { $1 }
        object["properties"] = .object(properties)
        return .object(object)
    }

    private static let baseSchema: JSONValue = [
        "type": "object",
        "description": "after the upscale, img2img with a Stable Diffusion model over overlapping tiles at low strength (SD upscale); tile (column, row) uses a seed derived from (seed, column, row) so any tile can be redone alone",
        "properties": [
            "model": ["type": "string", "minLength": 1, "maxLength": 128, "description": "Stable Diffusion model under the models folder"],
            "prompt": ["type": "string", "maxLength": 4096, "description": "A1111 syntax, <lora:NAME:W> tags included"],
            "loras": LoRASchema.property,
            "negative_prompt": ["type": "string", "maxLength": 4096],
            "strength": ["type": "number", "minimum": 0, "maximum": 1,
                         "description": .string("fraction of the schedule run on each tile (default \(RefineSettings.defaultStrength)); must run at least one step")],
            "steps": ["type": "integer", "minimum": 1, "maximum": 150, "description": "default 20"],
            "cfg_scale": ["type": "number", "minimum": 0, "maximum": 30, "description": "default 7.5"],
            "sampler": ["type": "string", "maxLength": 64, "description": "API or A1111 sampler name (default euler)"],
            "scheduler": ["type": "string", "maxLength": 32, "description": "sigma schedule (default: what the sampler name says, else normal)"],
            "seed": ["type": "integer", "minimum": 0, "maximum": .integer(Int64.max), "description": "base seed of the tile seeds (default 0)"],
            "tile": ["type": "integer", "minimum": 8, "maximum": 2048,
                     "description": .string("tile side in output pixels, a multiple of 8 (default \(RefineSettings.defaultTile))")],
            "overlap": ["type": "integer", "minimum": 0, "maximum": 1024,
                        "description": .string("overlap of neighbouring tiles (default \(RefineSettings.defaultOverlap)); at most tile/2")],
            "seam_fix": ["type": "boolean", "description": "second pass over feathered bands centred on the tile seams, at half the strength (default false)"],
            "control": ControlSchema.property,
            "adapters": T2IAdapterParams.schema,
            "hypernetworks": GenerationSchema.commonProperties["hypernetworks"] ?? .null,
            "precision": PrecisionParam.property,
        ],
        "required": ["model"],
        "additionalProperties": false,
    ]

    /// nil when the request has no `refine`. Loads the SD model and validates everything before any upscaling.
    static func parse(_ value: JSONValue?, context: JobContext) throws -> UpscaleRefine? {
        guard let value else { return nil }
        guard let p = value.objectValue, let name = p["model"]?.stringValue else {
            throw PluginError.invalidParam(field: "refine.model", reason: "refine needs a Stable Diffusion model name")
        }
        let extraNetworks = ExtraNetworkParams(loras: p["loras"], prompt: p["prompt"]?.stringValue ?? "",
                                     negativePrompt: p["negative_prompt"]?.stringValue ?? "",
                                     prompt2: p["prompt_2"]?.stringValue, negativePrompt2: p["negative_prompt_2"]?.stringValue,
                                     promptField: "refine.prompt",
                                     negativePromptField: "refine.negative_prompt", lorasField: "refine.loras")
        var s = RefineSettings(prompt: extraNetworks.prompt)
        s.negativePrompt = extraNetworks.negativePrompt
        s.strength = p["strength"]?.doubleValue ?? RefineSettings.defaultStrength
        s.steps = p["steps"]?.intValue ?? s.steps
        s.cfgScale = p["cfg_scale"]?.doubleValue ?? s.cfgScale
        s.seed = UInt64(max(0, p["seed"]?.intValue ?? 0))
        s.tile = p["tile"]?.intValue ?? RefineSettings.defaultTile
        s.overlap = p["overlap"]?.intValue ?? RefineSettings.defaultOverlap
        s.seamFix = p["seam_fix"]?.boolValue ?? false
        let sdxl = SDXLParams(p)
        s.prompt2 = sdxl.prompt2
        s.negativePrompt2 = sdxl.negativePrompt2
        s.micro = sdxl.micro
        do {
            if p["sampler"] != nil || p["scheduler"] != nil {
                try s.setSampler(p["sampler"]?.stringValue ?? "euler", scheduler: p["scheduler"]?.stringValue)
            }
            let base = try CheckpointLookup.model(named: name, context: context, field: "refine.model", stage: "load refine model")
            let (model, loraMembers) = try LoRALookup.apply(extraNetworks, to: base, context: context)
            // Control images are in the upscaled image's frame: fitted to it, cut with each tile.
            s.controls = try ControlLookup.inputs(ControlParams.list(p, prefix: "refine."), model: model, context: context)
            // Adapter pictures likewise: stretched to the upscaled image, cut with each tile.
            s.adapters = try T2IAdapterParams(p, fieldPrefix: "refine.").resolve(context: context)
            let members = try applyEmbeddingsAndHypernetworks(HypernetworkParams(p), model: model, to: &s, context: context)
            return UpscaleRefine(refiner: try TileRefiner(model: model, settings: s),
                                 ignored: sdxl.ignored(by: model).map { "refine.\($0)" }, embeddingHypernetworkMembers: members,
                                 loraMembers: loraMembers, adapterMembers: T2IAdapterParams.member(s.adapters),
                                 precision: try PrecisionParam.resolve(p["precision"], field: "refine.precision"))
        } catch let e as EngineError {
            throw pluginError(e)
        }
    }

    /// Prompt tags removed, embeddings and hypernetworks resolved and checked as for the generation operations
    /// (`EmbeddingsAndHypernetworks`), errors naming `refine.<member>`.
    static func applyEmbeddingsAndHypernetworks(_ params: HypernetworkParams, model: LoadedModel, to s: inout RefineSettings,
                              context: JobContext) throws -> [String: JSONValue] {
        var request = GenerationRequest(prompt: s.prompt)
        request.negativePrompt = s.negativePrompt
        request.prompt2 = s.prompt2
        request.negativePrompt2 = s.negativePrompt2
        request.cfgScale = s.cfgScale
        params.strip(&request)
        let members: [String: JSONValue]
        do {
            members = try EmbeddingsAndHypernetworks.apply(params, model: model, to: &request, context: context)
        } catch PluginError.invalidParam(let field, let reason) {
            throw PluginError.invalidParam(field: "refine.\(field)", reason: reason)
        }
        s.prompt = request.prompt
        s.negativePrompt = request.negativePrompt
        s.prompt2 = request.prompt2
        s.negativePrompt2 = request.negativePrompt2
        s.embeddings = request.embeddings
        s.hypernetworks = request.hypernetworks
        return members
    }

    /// Refines the upscaled image streaming (read by row bands, finished rows to a temporary file in `scratch`)
    /// and hands the result to `deliver` while that file exists; RGB out, 16-bit kept 16-bit. Alpha is refused up
    /// front by the caller.
    func apply<R>(to image: VipsImage, scratch: String, context: JobContext, deliver: (VipsImage) throws -> R) throws -> R {
        do {
            return try ComputePrecision.$current.withValue(precision) {
                try refiner.refine(image, scratchDirectory: scratch,
                progress: { p in context.progress(stage: "refine", step: 1, steps: 1, tile: p.window, tiles: p.windows) },
                isCancelled: { context.cancellation.isCancelled },
                deliver: deliver)
            }
        } catch let e as EngineError {
            try context.checkCancelled()
            throw Self.pluginError(e)
        }
    }

    /// The result's `ignored` member: SDXL-only `refine` members sent with an SD 1.x/2.x model.
    static var ignoredSchema: JSONValue {
        ["type": "array", "minItems": 1,
         "items": ["type": "string", "enum": .array(SDXLParams.members.map { .string("refine.\($0)") })],
         "description": "refine members the refine model does not use (SDXL-only members with an SD 1.x/2.x model); absent when none"]
    }

    static func pluginError(_ e: EngineError) -> PluginError { PluginError(e, sizeField: "refine", modelField: "refine.model") }
}
