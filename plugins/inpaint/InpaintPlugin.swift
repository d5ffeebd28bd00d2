import DiffusionProtocol
import Engine
import GenerationKit
import Imaging
import PluginAPI
import StrictJSON

/// `inpaint`: repaint the masked part of an image. Outside the (feathered) mask the result equals the input bit
/// for bit, at its bit depth, alpha and size. With `model` the area is repainted (generation parameters as
/// img2img); without it the masked area is filled from its surroundings (edge, blur or content-aware PatchMatch).
public struct InpaintPlugin: OperationPlugin {
    public init() {}

    public let method = "inpaint"
    public let summary = "Repaint the masked area of an image (mask file or the image's alpha) with an inpainting or ordinary model; pixels outside the mask stay bit-identical. Without a model: edge, blur or PatchMatch fill."

    public var paramsSchema: JSONValue {
        var properties = GenerationSchema.commonProperties
        let own: [String: JSONValue] = [
            "image": ImageSchemas.input(description: "the image to edit"),
            "refiner": RefinerSchema.property,
            "adapters": T2IAdapterParams.schema,
            "mask": MaskParams.sourceSchema,
            "area": ["type": "string", "enum": Self.areas,
                     "description": .string("process the whole image, or only the mask's bounding box plus padding (default \(InpaintParams.defaultArea))")],
            "padding": ["type": "integer", "minimum": 0, "maximum": 4096,
                        "description": .string("pixels of context around the mask for area \"masked\" (default \(InpaintParams.defaultPadding))")],
            "fill": ["type": "string", "enum": Self.fills,
                     "description": .string("what the masked area starts as (default \(InpaintParams.defaultFillWithModel); without a model default \(InpaintParams.defaultFillWithoutModel))")],
            "color_match": ["type": "boolean",
                            "description": "match the repainted area's colour statistics to its surroundings (default false)"],
            "blend": ["type": "string", "enum": ["hard", "soft"],
                      "description": "soft: grey mask levels honoured during sampling (differential diffusion)"],
            "strength": GenerationSchema.strengthProperty(
                "how much of the schedule to run in the masked area (default \(GenerationSchema.plain(GenerationDefaults.repaintStrength)))"),
            "width": GenerationSchema.sizeProperty("processing width", defaultText: "default: the region's width rounded to 8"),
            "height": GenerationSchema.sizeProperty("processing height", defaultText: "default: the region's height rounded to 8"),
        ]
        for (key, value) in own { properties[key] = value }
        properties["model"] = GenerationSchema.modelProperty(
            description: "diffusion model (a 9-channel inpainting model or an ordinary one); omit for fill-only inpainting")
        for (key, value) in MaskParams.optionSchemas { properties[key] = value }
        return ["type": "object", "properties": .object(properties), "required": ["image", "mask"],
                "additionalProperties": false]
    }

    public var resultSchema: JSONValue? {
        let fill: JSONValue = ["type": "string", "enum": Self.fills, "description": "how the masked area started"]
        let area: JSONValue = ["type": "string", "enum": Self.areas]
        return ["oneOf": [
            GenerationResultSchema.repaint(extra: ["fill": fill, "area": area, "refiner": RefinerResult.schema],
                                           extraRequired: ["fill", "area"],
                                           description: "with model: the repainted images"),
            ResultSchemas.object(["image": ResultSchemas.image(description: ResultSchemas.outputImageDescription), "fill": fill,
                                  "area": area, "timings": ResultSchemas.daemonTimings()],
                                 required: ["image", "fill", "area", "timings"], description: "without model: the filled image"),
        ]]
    }

    public var capabilities: [String: JSONValue] { GenerationCapabilities.members }

    static var fills: JSONValue { .array(InpaintFill.names.map { .string($0) }) }
    static let areas: JSONValue = ["whole", "masked"]

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let p = InpaintParams(params)
        let refiner = try RefinerParams.parse(params)
        if p.generation.model != nil {
            return try PrecisionParam.run(try PrecisionParam.resolve(params["precision"])) {
                try runWithModel(p, refiner: refiner, context: context)
            }
        }
        guard refiner == nil else {
            throw PluginError.invalidParam(field: "refiner", reason: "needs model: a refiner continues a model's run")
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
        let fill = try p.inpaintFill(default: InpaintParams.defaultFillWithoutModel, seed: p.generation.fillSeed)
        guard fill.changesPixels else {
            throw PluginError.invalidParam(field: "fill", reason: InpaintError.fillNeedsModel(fill: fill.name).description)
        }
        let output = try context.resolveOutput(p.generation.output, field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(p.image, field: "image")
        let mask = try p.mask.resolve(image: image, context: context)
        try context.checkCancelled()

        context.progress(stage: "fill", step: 1, steps: 3)
        let token = context.cancellation
        let result: VipsImage
        do {
            result = try FieldErrors.naming("mask") {
                try ModelFreeEdit.inpaint(image: image, mask: mask, fill: fill, area: p.area, colorMatch: p.colorMatch,
                                          shouldCancel: { token.isCancelled })
            }
        } catch PluginError.cancelled {
            // Report the token's own reason (cancel request, disconnect, shutdown), not the fill's.
            try context.checkCancelled()
            throw PluginError.cancelled(reason: "cancelled")
        }
        try context.checkCancelled()
        context.progress(stage: "write", step: 2, steps: 3)
        let described = try context.deliver(result, to: output, field: "output")
        context.progress(stage: "write", step: 3, steps: 3)
        return ["image": described, "fill": .string(fill.name), "area": .string(p.areaName)]
    }

    /// The model path: generation parameters as img2img, then `ModelInpaint` (region, fill, shared sampler loop,
    /// exact composite).
    func runWithModel(_ p: InpaintParams, refiner refinerParams: RefinerParams?, context: JobContext) throws -> JSONValue {
        var request = try p.generation.request()
        request.strength = p.strength
        var options = ModelInpaint.Options()
        options.fill = try p.inpaintFill(default: InpaintParams.defaultFillWithModel, seed: request.seed)
        options.area = p.area
        options.blend = p.blend
        options.colorMatch = p.colorMatch
        if p.generation.width != nil || p.generation.height != nil {
            guard let w = p.generation.width, let h = p.generation.height else {
                throw PluginError.invalidParam(field: p.generation.width == nil ? "width" : "height", reason: "give both width and height, or neither")
            }
            request.width = w
            request.height = h
            try GenerationParams.checkSize(request)
            options.processingSize = ImageSize(width: w, height: h)
        }
        let outputs = try p.generation.resolveOutputs(batch: request.batchSize, context: context)
        let image = try context.loadImage(p.image, field: "image")
        let mask = try p.mask.resolve(image: image, context: context)
        try context.checkCancelled()
        let base = try CheckpointLookup.model(named: try p.generation.requiredModel(), context: context)
        let (model, loraMembers) = try LoRALookup.apply(p.generation.extraNetworks, to: base, context: context)
        request.controls = try ControlLookup.inputs(p.generation.controls, model: model, context: context)
        let embeddingHypernetworkMembers = try EmbeddingsAndHypernetworks.apply(p.generation.hypernetworks, model: model,
                                                                                to: &request, context: context)
        let refiner = try refinerParams.map { try RefinerLookup.handoff($0, base: model, context: context) }
        let adapters = try p.adapters.resolve(context: context)
        options.adapters = adapters
        let hooks = try RepaintHooks.make(context: context, preview: p.generation.preview)
        let results: [VipsImage]
        do {
            results = try FieldErrors.naming("mask") {
                try ModelInpaint(model: model).run(image: image, mask: mask, request: request, options: options,
                                                   refiner: refiner, hooks: hooks)
            }
        } catch let e as EngineError {
            throw try RepaintHooks.failure(e, context: context)
        }
        var extra: [String: JSONValue] = ["fill": .string(options.fill.name), "area": .string(p.areaName)]
        extra.merge(T2IAdapterParams.member(adapters)) { $1 }
        if let refiner, let last = try InpaintPipeline(model: model).stages(for: request, refiner: refiner).last {
            extra["refiner"] = RefinerResult.member(refiner, steps: last.plan.steps)
        }
        return try GeneratedImages.repaintResult(results, request: request, outputs: outputs, model: model, refiner: refiner,
                                                 context: context,
                                                 extra: p.generation.sdxl.ignoredMember(for: model).merging(embeddingHypernetworkMembers) { own, _ in own }
                                                    .merging(extra) { _, own in own }
                                                    .merging(loraMembers) { own, _ in own })
    }
}

extension InpaintPlugin: MemoryEstimating {
    public func estimateMemory(params: [String: JSONValue], context: JobContext) throws -> MemoryEstimate? {
        GenerationMemoryEstimate.estimate(params: params, context: context, encodes: true)
    }
}
