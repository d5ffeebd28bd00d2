import DiffusionProtocol
import Engine
import GenerationKit
import Imaging
import PluginAPI
import StrictJSON

/// `img2img`: re-noise an image to `strength` and denoise it with a prompt, as diffusers'
/// StableDiffusionImg2ImgPipeline (steps = int(steps × strength) of the schedule; the VAE's posterior sample
/// draws its noise first, then the noise for add_noise).
public struct Img2ImgPlugin: OperationPlugin {
    public init() {}

    public let method = "img2img"
    public let summary = "img2img: Stable Diffusion 1.x/2.x from a source image with strength, resize modes (just resize, crop and resize, resize and fill), A1111/diffusers samplers and seeds."

    public var paramsSchema: JSONValue {
        var properties = GenerationSchema.commonProperties
        properties["image"] = ImageSchemas.input(description: "the source image (alpha is dropped)")
        properties["adapters"] = T2IAdapterParams.schema
        properties["depth_map"] = ImageSchemas.input(description: "depth-to-image models (SD 2 depth): the depth map, a grey picture (RGB through luminance; near or far bright, as the model was trained), any size; only its shape matters, not its scale (each map is normalised to [-1, 1]); required by such a model, refused by others")
        properties["strength"] = GenerationSchema.strengthProperty(
            "how much of the schedule to run (diffusers' strength / A1111's denoising strength; default \(GenerationDefaults.img2imgStrength))")
        properties["resize_mode"] = ["type": "string", "enum": Self.resizeModes,
                                     "description": .string("how the image is fitted to width × height (default \(Img2ImgParams.defaultResizeMode.rawValue))")]
        properties["width"] = GenerationSchema.sizeProperty("output width", defaultText: "default: the image's width rounded down to a multiple of 8")
        properties["height"] = GenerationSchema.sizeProperty("output height", defaultText: "default: the image's height rounded down to a multiple of 8")
        properties["refiner"] = RefinerSchema.property
        return ["type": "object", "properties": .object(properties), "required": ["model", "prompt", "image"], "additionalProperties": false]
    }

    public var resultSchema: JSONValue? {
        var properties = GenerationResultSchema.txt2imgProperties
        properties["strength"] = ["type": "number", "exclusiveMinimum": 0, "maximum": 1]
        properties["resize_mode"] = ["type": "string", "enum": Self.resizeModes]
        var required = GenerationResultSchema.txt2imgRequired
        required.insert(contentsOf: ["strength", "resize_mode"], at: required.count - 1)
        return ResultSchemas.object(properties, required: required)
    }

    public var capabilities: [String: JSONValue] { GenerationCapabilities.members }

    static var resizeModes: JSONValue { .array(ResizeMode.allCases.map { .string($0.rawValue) }) }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        try PrecisionParam.run(try PrecisionParam.resolve(params["precision"])) { try runResolved(params: params, context: context) }
    }

    private func runResolved(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let p = Img2ImgParams(params)
        let refinerParams = try RefinerParams.parse(params)
        var request = try p.generation.request()
        request.strength = p.strength
        let outputs = try p.generation.resolveOutputs(batch: request.batchSize, context: context)

        let source = try context.loadImage(p.image, field: "image")
        request.width = p.generation.width ?? source.width / 8 * 8
        request.height = p.generation.height ?? source.height / 8 * 8
        guard request.width >= 8, request.height >= 8 else {
            throw PluginError.invalidParam(field: "image", reason: "is \(source.width)x\(source.height); give width/height of at least 8")
        }
        try GenerationParams.checkSize(request)
        do {
            let fitted = try p.resizeMode.apply(source, width: request.width, height: request.height)
            request.initImage = try fitted.toTensor()
        } catch let e as ImagingError {
            throw PluginError(e, field: "image")
        }
        if let depth = p.depthMap { try Self.setDepthMap(depth, of: &request, mode: p.resizeMode, context: context) }
        try context.checkCancelled()
        let base = try CheckpointLookup.model(named: try p.generation.requiredModel(), context: context)
        let (model, loraMembers) = try LoRALookup.apply(p.generation.extraNetworks, to: base, context: context)
        request.controls = try ControlLookup.inputs(p.generation.controls, model: model, context: context)
        let embeddingHypernetworkMembers = try EmbeddingsAndHypernetworks.apply(p.generation.hypernetworks, model: model,
                                                                                to: &request, context: context)
        let refiner = try refinerParams.map { try RefinerLookup.handoff($0, base: model, context: context) }
        let adapters = try T2IAdapterParams(params).resolve(context: context)
        request.adapters = try T2IAdapterParams.controls(adapters, width: request.width, height: request.height,
                                                         mode: p.resizeMode)
        try context.checkCancelled()
        var result = try GenerationRunner(context: context).run(request, model: model, refiner: refiner,
                                                                preview: p.generation.preview, outputs: outputs,
                                                                ignored: p.generation.sdxl.ignoredMember(for: model)
                                                                    .merging(T2IAdapterParams.member(adapters)) { $1 }
                                                                    .merging(embeddingHypernetworkMembers) { own, _ in own }
                                                                    .merging(loraMembers) { own, _ in own })
        if case .object(var o) = result {
            o["strength"] = .double(request.strength)
            o["resize_mode"] = .string(p.resizeMode.rawValue)
            result = .object(o)
        }
        return result
    }

    /// The depth map as [1, 1, H, W] in [0, 1]. With `just resize` it goes at its own size, as diffusers takes a
    /// map (straight to the latent size); the other modes crop or pad the image, so the map is fitted the same
    /// way first and stays aligned with the pixels it describes.
    static func setDepthMap(_ value: JSONValue, of request: inout GenerationRequest, mode: ResizeMode,
                            context: JobContext) throws {
        let picture = try context.loadImage(value, field: "depth_map")
        do {
            let fitted = mode == .justResize ? picture : try mode.apply(picture, width: request.width, height: request.height)
            request.depthMap = try Mask(maskImage: fitted).toTensor()
        } catch let e as ImagingError {
            throw PluginError(e, field: "depth_map")
        }
    }
}

extension Img2ImgPlugin: MemoryEstimating {
    public func estimateMemory(params: [String: JSONValue], context: JobContext) throws -> MemoryEstimate? {
        GenerationMemoryEstimate.estimate(params: params, context: context, encodes: true)
    }
}
