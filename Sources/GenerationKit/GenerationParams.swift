import StrictJSON
import DiffusionProtocol
import Engine
import PluginAPI
import Sampling

/// The request members `generate`, `img2img`, `inpaint` and `outpaint` share, decoded once from schema-validated
/// params. Missing members take `GenerationDefaults`. Decoding never fails: the checks that can (sampler names,
/// rng) run in `request()`, so the model-free inpaint and outpaint paths, which never build a request, accept
/// what they always accepted.
public struct GenerationParams: Sendable {
    public var model: String?
    public var prompt: String
    public var negativePrompt: String
    public var sampler: String
    public var scheduler: String?
    public var steps: Int
    public var cfgScale: Double
    public var guidanceRescale: Double
    public var clipSkip: Int
    public var eta: Double
    /// As sent: nil or -1 ask for a random seed (`request()` picks it).
    public var seed: Int?
    public var rng: String?
    public var batchSize: Int
    /// nil when not sent; each operation has its own default size.
    public var width: Int?
    public var height: Int?
    public var output: JSONValue?
    public var outputs: [JSONValue]?
    public var preview: PreviewParams?
    public var sdxl: SDXLParams
    /// `loras` and the `<lora:…>` tags taken out of the prompts (`prompt` and `negative_prompt` hold the text without them).
    public var extraNetworks: ExtraNetworkParams
    /// `control`: ControlNet entries (empty when absent); resolved against the model by `ControlLookup`.
    public var controls: [ControlParams]
    /// Hypernetwork tags and the `hypernetworks` member (`EmbeddingsAndHypernetworks` applies them, and finds the
    /// embeddings the prompts use, once the model is known).
    public var hypernetworks: HypernetworkParams

    public init(_ params: [String: JSONValue]) {
        model = params["model"]?.stringValue
        extraNetworks = ExtraNetworkParams(loras: params["loras"], prompt: params["prompt"]?.stringValue ?? "",
                                 negativePrompt: params["negative_prompt"]?.stringValue ?? "",
                                 prompt2: params["prompt_2"]?.stringValue, negativePrompt2: params["negative_prompt_2"]?.stringValue)
        prompt = extraNetworks.prompt
        negativePrompt = extraNetworks.negativePrompt
        sampler = params["sampler"]?.stringValue ?? GenerationDefaults.samplerName
        scheduler = params["scheduler"]?.stringValue
        steps = params["steps"]?.intValue ?? GenerationDefaults.steps
        cfgScale = params["cfg_scale"]?.doubleValue ?? GenerationDefaults.cfgScale
        guidanceRescale = params["guidance_rescale"]?.doubleValue ?? GenerationDefaults.guidanceRescale
        clipSkip = params["clip_skip"]?.intValue ?? GenerationDefaults.clipSkip
        eta = params["eta"]?.doubleValue ?? GenerationDefaults.eta
        seed = params["seed"]?.intValue
        rng = params["rng"]?.stringValue
        batchSize = params["batch_size"]?.intValue ?? GenerationDefaults.batchSize
        width = params["width"]?.intValue
        height = params["height"]?.intValue
        output = params["output"]
        outputs = params["outputs"]?.arrayValue
        preview = PreviewParams(params["preview"])
        sdxl = SDXLParams(params)
        controls = ControlParams.list(params)
        hypernetworks = HypernetworkParams(params)
    }

    /// The model name where the operation cannot run without one (the schema requires it there).
    public func requiredModel() throws -> String {
        guard let model else { throw PluginError.invalidParam(field: "model", reason: "is required") }
        return model
    }

    /// The seed the model-free fills use: as sent, negative and missing as 0 (they need no reproducible report).
    public var fillSeed: UInt64 { UInt64(max(0, seed ?? 0)) }

    /// The engine request: sampler and schedule parsed, the seed resolved (random when asked), sizes as sent or
    /// the defaults (operations that derive their size set it afterwards).
    public func request() throws -> GenerationRequest {
        var r = GenerationRequest(prompt: prompt)
        r.negativePrompt = negativePrompt
        do {
            r.sampler = try SamplerChoice.parse(sampler: sampler, scheduler: scheduler)
        } catch let e as SamplingError {
            throw PluginError.invalidParam(field: scheduler == nil ? "sampler" : "sampler/scheduler", reason: e.description)
        }
        r.steps = steps
        r.cfgScale = cfgScale
        r.guidanceRescale = guidanceRescale
        r.clipSkip = clipSkip
        r.eta = eta
        r.batchSize = batchSize
        r.width = width ?? GenerationDefaults.width
        r.height = height ?? GenerationDefaults.height
        if let rng {
            guard let kind = RNGKind(name: rng) else { throw PluginError.invalidParam(field: "rng", reason: "must be cpu, cuda, gpu or nv") }
            r.rng = kind
        }
        r.seed = Seeds.resolve(seed.map(Int64.init))
        sdxl.apply(to: &r)
        hypernetworks.strip(&r)
        return r
    }

    /// Width and height as sent, else the model family's default size (SDXL 1024, SD 1.x/2.x 512).
    public func applyDefaultSize(of model: LoadedModel, to r: inout GenerationRequest) {
        r.width = width ?? model.defaultSize.width
        r.height = height ?? model.defaultSize.height
    }

    /// Sizes must be multiples of 8 (the VAE's factor).
    public static func checkSize(_ r: GenerationRequest) throws {
        if r.width % 8 != 0 { throw PluginError.invalidParam(field: "width", reason: "\(r.width) is not a multiple of 8") }
        if r.height % 8 != 0 { throw PluginError.invalidParam(field: "height", reason: "\(r.height) is not a multiple of 8") }
    }

    /// One destination per image, checked before any work (see `GenerationOutputs`).
    public func resolveOutputs(batch: Int, context: JobContext) throws -> [ImageOutput] {
        try GenerationOutputs.resolve(output: output, outputs: outputs, batch: batch, context: context)
    }

    /// Whether the request asks for anything only a model run produces (model-free paths refuse it).
    public var needsModel: Bool { outputs != nil || preview != nil || batchSize != 1 || !controls.isEmpty }
}
