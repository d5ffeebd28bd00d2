import DiffusionProtocol
import Engine
import GenerationKit
import Imaging
import PluginAPI
import StrictJSON

/// `outpaint`: extend the canvas on any side. The original lands unchanged (bit-identical) at (left, top) and
/// the output is exactly (width + left + right) × (height + top + bottom). Without `model` the new area is filled
/// (edge, mirror, blur, noise or content-aware PatchMatch) and the filled canvas is the result; with one the
/// filled canvas and its seam mask are repainted by inpainting.
public struct OutpaintPlugin: OperationPlugin {
    public init() {}

    public let method = "outpaint"
    public let summary = "Extend an image's canvas on any side and repaint the new area with a model (in windows along the border for large canvases); the original stays bit-identical. Without a model the new area is filled (edge, mirror, blur, noise, PatchMatch)."

    static let maxExtend = 16_384

    public var paramsSchema: JSONValue {
        let side: JSONValue = ["type": "integer", "minimum": 0, "maximum": JSONValue(Self.maxExtend)]
        var properties = GenerationSchema.commonProperties
        let own: [String: JSONValue] = [
            "image": ImageSchemas.input(description: "the image to extend"),
            "extend": ["type": "object", "description": "pixels to add on each side (any may be 0)",
                       "properties": ["left": side, "top": side, "right": side, "bottom": side],
                       "additionalProperties": false],
            "fill": ["type": "string", "enum": Self.fills,
                     "description": .string("how the new area is filled (default \(OutpaintParams.defaultFill))")],
            "blur_sigma": ["type": "number", "exclusiveMinimum": 0, "maximum": 1024,
                           "description": .string("Gaussian sigma in px for fill \"blur\" (default \(GenerationSchema.plain(OutpaintParams.defaultBlurSigma)))")],
            "feather": ["type": "integer", "minimum": 0, "maximum": 1024,
                        "description": "px over which the repaint mask fades into the original along the seam (used with a model)"],
            "strength": GenerationSchema.strengthProperty(
                "how much of the schedule to run on the new area (default \(GenerationSchema.plain(GenerationDefaults.repaintStrength)))"),
            "blend": ["type": "string", "enum": ["hard", "soft"],
                      "description": "soft: the seam feather is honoured during sampling (differential diffusion)"],
            "window": ["type": "integer", "minimum": 64, "maximum": 2048,
                       "description": .string("model resolution in px; larger canvases are repainted in overlapping windows along the border (default \(OutpaintParams.defaultWindow))")],
        ]
        for (key, value) in own { properties[key] = value }
        properties["model"] = GenerationSchema.modelProperty(description: "diffusion model; omit to get the filled canvas")
        properties["adapters"] = T2IAdapterParams.schema
        return ["type": "object", "properties": .object(properties), "required": ["image", "extend"],
                "additionalProperties": false]
    }

    public var resultSchema: JSONValue? {
        let original = ResultSchemas.object(
            ["x": ["type": "integer", "minimum": 0], "y": ["type": "integer", "minimum": 0],
             "width": ["type": "integer", "minimum": 1], "height": ["type": "integer", "minimum": 1]],
            required: ["x", "y", "width", "height"], description: "where the original image sits in the output, unchanged")
        let fill: JSONValue = ["type": "string", "enum": Self.fills, "description": "how the new area was filled"]
        return ["oneOf": [
            GenerationResultSchema.repaint(extra: ["original": original, "fill": fill], extraRequired: ["original", "fill"],
                                           description: "with model: the repainted canvases"),
            ResultSchemas.object(["image": ResultSchemas.image(description: ResultSchemas.outputImageDescription),
                                  "original": original, "fill": fill, "timings": ResultSchemas.daemonTimings()],
                                 required: ["image", "original", "fill", "timings"], description: "without model: the filled canvas"),
        ]]
    }

    public var capabilities: [String: JSONValue] { GenerationCapabilities.members }

    static let fills: JSONValue = ["edge", "mirror", "blur", "noise", "patchmatch"]

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let p = OutpaintParams(params)
        let ext = try FieldErrors.naming("extend") {
            try CanvasExtension(left: p.left, top: p.top, right: p.right, bottom: p.bottom)
        }
        guard !ext.isEmpty else { throw PluginError.invalidParam(field: "extend", reason: InpaintError.emptyExtension.description) }
        let token = context.cancellation
        let fill = p.canvasFill(isCancelled: { token.isCancelled })
        if p.generation.model != nil {
            return try PrecisionParam.run(try PrecisionParam.resolve(params["precision"])) {
                try runWithModel(p, context: context, extension: ext, fill: fill)
            }
        }
        guard p.generation.extraNetworks.structured.isEmpty else {
            throw PluginError.invalidParam(field: "loras", reason: "needs model: LoRAs change a model's networks")
        }
        guard p.adapters.entries.isEmpty else {
            throw PluginError.invalidParam(field: "adapters", reason: "needs model: T2I-Adapters steer a model's run")
        }
        guard !p.generation.needsModel else {
            throw PluginError.invalidParam(field: "model", reason: "batch_size, outputs, preview and control need a model")
        }
        let output = try context.resolveOutput(p.generation.output, field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(p.image, field: "image")
        try Self.checkCanvas(of: image, extension: ext, limits: context.imageLimits)
        try context.checkCancelled()
        context.progress(stage: "fill", step: 1, steps: 3)
        let canvas: ExtendedCanvas
        do {
            canvas = try FieldErrors.naming("extend") {
                try ModelFreeEdit.outpaint(image: image, extension: ext, fill: fill, seamFeather: p.feather)
            }
        } catch PluginError.cancelled {
            // Report the token's own reason (cancel request, disconnect, shutdown), not the fill's.
            try context.checkCancelled()
            throw PluginError.cancelled(reason: "cancelled")
        }
        try context.checkCancelled()
        context.progress(stage: "write", step: 2, steps: 3)
        let described = try context.deliver(canvas.image, to: output, field: "output")
        context.progress(stage: "write", step: 3, steps: 3)
        return ["image": described,
                "original": ["x": JSONValue(canvas.original.x), "y": JSONValue(canvas.original.y),
                             "width": JSONValue(canvas.original.width), "height": JSONValue(canvas.original.height)],
                "fill": .string(p.fillName)]
    }

    /// The extended canvas is a new image the job produces, so it gets the same limits as a decoded input
    /// (`--max-image-pixels`): checked before any fill, which on a huge canvas would run for minutes.
    static func checkCanvas(of image: VipsImage, extension ext: CanvasExtension, limits: ImageLimits) throws {
        let canvas = ext.canvasSize(for: image.size)
        do {
            // The canvas has the image's bands and depth (as `VipsImage.extended(by:)` checks, there against
            // the default limits only).
            try limits.check(width: canvas.width, height: canvas.height, bands: image.bands,
                             bytesPerSample: max(1, image.bitDepth / 8))
        } catch let e as ImagingError {
            guard case .tooLarge(_, _, let limit) = e else { throw e }
            throw PluginError.invalidParam(
                field: "extend",
                reason: "the extended canvas would be \(canvas.width)x\(canvas.height) (image \(image.width)x\(image.height) "
                    + "plus extend left \(ext.left), top \(ext.top), right \(ext.right), bottom \(ext.bottom)), "
                    + "over the limit (\(limit)); extend less or downscale the image first")
        }
    }

    /// The model path: the aligned canvas and seam mask go through `ModelInpaint.outpaint` (one pass, or windows
    /// along the border), then the result is cropped back to exactly the requested canvas.
    func runWithModel(_ p: OutpaintParams, context: JobContext, extension ext: CanvasExtension, fill: CanvasFill) throws -> JSONValue {
        var request = try p.generation.request()
        request.strength = p.strength
        var options = ModelInpaint.Options()
        options.blend = p.blend
        let outputs = try p.generation.resolveOutputs(batch: request.batchSize, context: context)
        let image = try context.loadImage(p.image, field: "image")
        try Self.checkCanvas(of: image, extension: ext, limits: context.imageLimits)
        try context.checkCancelled()
        let base = try CheckpointLookup.model(named: try p.generation.requiredModel(), context: context)
        let (model, loraMembers) = try LoRALookup.apply(p.generation.extraNetworks, to: base, context: context)
        request.controls = try ControlLookup.inputs(p.generation.controls, model: model, context: context)
        let embeddingHypernetworkMembers = try EmbeddingsAndHypernetworks.apply(p.generation.hypernetworks, model: model,
                                                                                to: &request, context: context)
        let adapters = try p.adapters.resolve(context: context)
        options.adapters = adapters
        let hooks = try RepaintHooks.make(context: context, preview: p.generation.preview)
        let results: [VipsImage]
        do {
            results = try FieldErrors.naming("extend") {
                try ModelInpaint(model: model).outpaint(image: image, extension: ext, fill: fill, seamFeather: p.feather,
                                                        request: request, options: options, modelResolution: p.window, hooks: hooks)
            }
        } catch let e as EngineError {
            throw try RepaintHooks.failure(e, context: context)
        }
        return try GeneratedImages.repaintResult(results, request: request, outputs: outputs, model: model, context: context,
                                                 extra: p.generation.sdxl.ignoredMember(for: model).merging(embeddingHypernetworkMembers) { own, _ in own }.merging([
                                                    "original": ["x": JSONValue(ext.left), "y": JSONValue(ext.top),
                                                                 "width": JSONValue(image.width), "height": JSONValue(image.height)],
                                                    "fill": .string(p.fillName)]) { _, own in own }
                                                    .merging(loraMembers) { own, _ in own }
                                                    .merging(T2IAdapterParams.member(adapters)) { own, _ in own })
    }
}

extension OutpaintPlugin: MemoryEstimating {
    public func estimateMemory(params: [String: JSONValue], context: JobContext) throws -> MemoryEstimate? {
        GenerationMemoryEstimate.estimate(params: params, context: context, encodes: true)
    }
}
