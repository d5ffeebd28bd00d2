import DiffusionProtocol
import Engine
import GeneratePlugin
import Imaging
import InpaintPlugin
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
        var properties = GenerationParams.commonProperties
        let own: [String: JSONValue] = [
            "image": ImageSchemas.input(description: "the image to extend"),
            "extend": ["type": "object", "description": "pixels to add on each side (any may be 0)",
                       "properties": ["left": side, "top": side, "right": side, "bottom": side],
                       "additionalProperties": false],
            "fill": ["type": "string", "enum": ["edge", "mirror", "blur", "noise", "patchmatch"],
                     "description": "how the new area is filled (default patchmatch)"],
            "blur_sigma": ["type": "number", "exclusiveMinimum": 0, "maximum": 1024,
                           "description": "Gaussian sigma in px for fill \"blur\" (default 32)"],
            "feather": ["type": "integer", "minimum": 0, "maximum": 1024,
                        "description": "px over which the repaint mask fades into the original along the seam (used with a model)"],
            "strength": ["type": "number", "exclusiveMinimum": 0, "maximum": 1,
                         "description": "how much of the schedule to run on the new area (default 1)"],
            "blend": ["type": "string", "enum": ["hard", "soft"],
                      "description": "soft: the seam feather is honoured during sampling (differential diffusion)"],
            "window": ["type": "integer", "minimum": 64, "maximum": 2048,
                       "description": "model resolution in px; larger canvases are repainted in overlapping windows along the border (default 512)"],
        ]
        for (key, value) in own { properties[key] = value }
        properties["model"] = ["type": "string", "minLength": 1, "maxLength": 255,
                               "description": "diffusion model; omit to get the filled canvas"]
        return ["type": "object", "properties": .object(properties), "required": ["image", "extend"],
                "additionalProperties": false]
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let e = params["extend"]
        let ext = try MaskParams.imaging(field: "extend") {
            try CanvasExtension(left: e?["left"]?.intValue ?? 0, top: e?["top"]?.intValue ?? 0,
                                right: e?["right"]?.intValue ?? 0, bottom: e?["bottom"]?.intValue ?? 0)
        }
        guard !ext.isEmpty else { throw PluginError.invalidParam(field: "extend", reason: InpaintError.emptyExtension.description) }
        let seed = UInt64(max(0, params["seed"]?.intValue ?? 0))
        let token = context.cancellation
        let fill: CanvasFill
        switch params["fill"]?.stringValue ?? "patchmatch" {
        case "edge": fill = .edge
        case "mirror": fill = .mirror
        case "blur": fill = .blur(sigma: params["blur_sigma"]?.doubleValue ?? 32)
        case "noise": fill = .noise(seed: seed)
        default: fill = .patchMatch(PatchMatchOptions(seed: seed, shouldCancel: { token.isCancelled }))
        }
        let feather = params["feather"]?.intValue ?? 0
        if params["model"] != nil {
            return try runWithModel(params: params, context: context, extension: ext, fill: fill, feather: feather)
        }
        guard params["outputs"] == nil, params["preview"] == nil, (params["batch_size"]?.intValue ?? 1) == 1 else {
            throw PluginError.invalidParam(field: "model", reason: "batch_size, outputs and preview need a model")
        }
        let output = try context.resolveOutput(params["output"], field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(params["image"], field: "image")
        try Self.checkCanvas(of: image, extension: ext, limits: context.imageLimits)
        try context.checkCancelled()
        context.progress(stage: "fill", step: 1, steps: 3)
        let canvas: ExtendedCanvas
        do {
            canvas = try MaskParams.imaging(field: "extend") {
                try ModelFreeEdit.outpaint(image: image, extension: ext, fill: fill, seamFeather: feather)
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
                "fill": .string(params["fill"]?.stringValue ?? "patchmatch")]
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
    func runWithModel(params: [String: JSONValue], context: JobContext, extension ext: CanvasExtension,
                      fill: CanvasFill, feather: Int) throws -> JSONValue {
        var request = try GenerationParams.request(from: params)
        request.strength = params["strength"]?.doubleValue ?? 1
        var options = ModelInpaint.Options()
        options.blend = params["blend"]?.stringValue == "soft" ? .soft : .hard
        let window = params["window"]?.intValue ?? 512
        let outputs = try GenerationParams.outputs(params, batch: request.batchSize, context: context)
        let image = try context.loadImage(params["image"], field: "image")
        try Self.checkCanvas(of: image, extension: ext, limits: context.imageLimits)
        try context.checkCancelled()
        let model = try GenerationRunner(context: context).model(params)
        let token = context.cancellation
        let hooks = StableDiffusionPipeline.Hooks(isCancelled: { token.isCancelled },
                                                  onStep: { step in context.progress(stage: "sampling", step: step.step, steps: step.steps) })
        let results: [VipsImage]
        do {
            results = try MaskParams.imaging(field: "extend") {
                try ModelInpaint(model: model).outpaint(image: image, extension: ext, fill: fill, seamFeather: feather,
                                                        request: request, options: options, modelResolution: window, hooks: hooks)
            }
        } catch let e as EngineError {
            if case .cancelled = e { try context.checkCancelled() }
            if case .invalidParameter(let field, let reason) = e { throw PluginError.invalidParam(field: field, reason: reason) }
            throw PluginError.invalidParam(field: "model", reason: e.description)
        }
        return try InpaintPlugin.deliver(results, request: request, outputs: outputs, model: model, context: context,
                                         extra: ["original": ["x": JSONValue(ext.left), "y": JSONValue(ext.top),
                                                              "width": JSONValue(image.width), "height": JSONValue(image.height)],
                                                 "fill": .string(params["fill"]?.stringValue ?? "patchmatch")])
    }
}
