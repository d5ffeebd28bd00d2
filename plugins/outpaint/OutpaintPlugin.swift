import DiffusionProtocol
import Engine
import Imaging
import InpaintPlugin
import PluginAPI

/// `outpaint`: extend the canvas on any side. The original lands unchanged (bit-identical) at (left, top) and
/// the output is exactly (width + left + right) × (height + top + bottom). Without `model` the new area is filled
/// (edge, mirror, blur, noise or content-aware PatchMatch) and the filled canvas is the result.
public struct OutpaintPlugin: OperationPlugin {
    public init() {}

    public let method = "outpaint"
    public let summary = "Extend an image's canvas on any side; the original stays bit-identical. Without a model the new area is filled (edge, mirror, blur, noise, PatchMatch)."

    static let maxExtend = 16_384

    public var paramsSchema: JSONValue {
        let side: JSONValue = ["type": "integer", "minimum": 0, "maximum": JSONValue(Self.maxExtend)]
        return [
            "type": "object",
            "properties": [
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
                "seed": ["type": "integer", "minimum": 0, "description": "seed of the noise and PatchMatch fills (default 0)"],
                "model": ["type": "string", "minLength": 1, "description": "diffusion model; omit to get the filled canvas"],
                "output": ImageSchemas.output(description: "where to put the result (default: inline PNG as base64)"),
            ],
            "required": ["image", "extend"],
            "additionalProperties": false,
        ]
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        if params["model"] != nil {
            throw PluginError.invalidParam(field: "model",
                reason: "outpainting with a diffusion model is not available in this build yet; omit model to get the filled canvas")
        }
        let e = params["extend"]
        let ext = try MaskParams.imaging(field: "extend") {
            try CanvasExtension(left: e?["left"]?.intValue ?? 0, top: e?["top"]?.intValue ?? 0,
                                right: e?["right"]?.intValue ?? 0, bottom: e?["bottom"]?.intValue ?? 0)
        }
        guard !ext.isEmpty else { throw PluginError.invalidParam(field: "extend", reason: InpaintError.emptyExtension.description) }
        let seed = UInt64(max(0, params["seed"]?.intValue ?? 0))
        let fill: CanvasFill
        switch params["fill"]?.stringValue ?? "patchmatch" {
        case "edge": fill = .edge
        case "mirror": fill = .mirror
        case "blur": fill = .blur(sigma: params["blur_sigma"]?.doubleValue ?? 32)
        case "noise": fill = .noise(seed: seed)
        default: fill = .patchMatch(PatchMatchOptions(seed: seed))
        }
        let feather = params["feather"]?.intValue ?? 0
        let output = try context.resolveOutput(params["output"], field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(params["image"], field: "image")
        try context.checkCancelled()
        context.progress(stage: "fill", step: 1, steps: 3)
        let canvas = try MaskParams.imaging(field: "extend") {
            try ModelFreeEdit.outpaint(image: image, extension: ext, fill: fill, seamFeather: feather)
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
}
