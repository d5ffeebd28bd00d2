import DiffusionProtocol
import Engine
import Imaging
import PluginAPI

/// `inpaint`: repaint the masked part of an image. Outside the (feathered) mask the result equals the input bit
/// for bit, at its bit depth, alpha and size. Without `model` the masked area is filled from its surroundings
/// (edge, blur or content-aware PatchMatch).
public struct InpaintPlugin: OperationPlugin {
    public init() {}

    public let method = "inpaint"
    public let summary = "Repaint the masked area of an image (mask file or the image's alpha); pixels outside the mask stay bit-identical. Without a model: edge, blur or PatchMatch fill."

    public var paramsSchema: JSONValue {
        var properties: [String: JSONValue] = [
            "image": ImageSchemas.input(description: "the image to edit"),
            "mask": MaskParams.sourceSchema,
            "area": ["type": "string", "enum": ["whole", "masked"],
                     "description": "process the whole image, or only the mask's bounding box plus padding (default whole)"],
            "padding": ["type": "integer", "minimum": 0, "maximum": 4096,
                        "description": "pixels of context around the mask for area \"masked\" (default 32)"],
            "fill": ["type": "string", "enum": .array(InpaintFill.names.map { .string($0) }),
                     "description": "what the masked area starts as (default original; without a model default patchmatch)"],
            "seed": ["type": "integer", "minimum": 0, "description": "seed of PatchMatch and the sampler (default 0)"],
            "color_match": ["type": "boolean",
                            "description": "match the repainted area's colour statistics to its surroundings (default false)"],
            "blend": ["type": "string", "enum": ["hard", "soft"],
                      "description": "soft: grey mask levels honoured during sampling (differential diffusion)"],
            "model": ["type": "string", "minLength": 1, "description": "diffusion model; omit for fill-only inpainting"],
            "output": ImageSchemas.output(description: "where to put the result (default: inline PNG as base64)"),
        ]
        for (key, value) in MaskParams.optionSchemas { properties[key] = value }
        return ["type": "object", "properties": .object(properties), "required": ["image", "mask"],
                "additionalProperties": false]
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        if params["model"] != nil {
            throw PluginError.invalidParam(field: "model",
                reason: "inpainting with a diffusion model is not available in this build yet; omit model for fill-only inpainting")
        }
        let seed = UInt64(max(0, params["seed"]?.intValue ?? 0))
        let fillName = params["fill"]?.stringValue ?? "patchmatch"
        guard let fill = InpaintFill(name: fillName, seed: seed) else {
            throw PluginError.invalidParam(field: "fill", reason: "must be one of \(InpaintFill.names.joined(separator: ", "))")
        }
        guard fill.changesPixels else {
            throw PluginError.invalidParam(field: "fill", reason: InpaintError.fillNeedsModel(fill: fill.name).description)
        }
        let area: InpaintArea = params["area"]?.stringValue == "masked"
            ? .masked(padding: params["padding"]?.intValue ?? 32) : .whole
        let output = try context.resolveOutput(params["output"], field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(params["image"], field: "image")
        let mask = try MaskParams.resolve(params, image: image, context: context)
        try context.checkCancelled()

        context.progress(stage: "fill", step: 1, steps: 3)
        let result = try MaskParams.imaging(field: "mask") {
            try ModelFreeEdit.inpaint(image: image, mask: mask, fill: fill, area: area,
                                      colorMatch: params["color_match"]?.boolValue ?? false)
        }
        try context.checkCancelled()
        context.progress(stage: "write", step: 2, steps: 3)
        let described = try context.deliver(result, to: output, field: "output")
        context.progress(stage: "write", step: 3, steps: 3)
        return ["image": described, "fill": .string(fill.name), "area": .string(params["area"]?.stringValue ?? "whole")]
    }
}
