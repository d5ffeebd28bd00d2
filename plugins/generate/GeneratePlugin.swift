import DiffusionProtocol
import Engine
import GenerationKit
import PluginAPI
import StrictJSON

/// `generate`: txt2img with a resident Stable Diffusion 1.x/2.x model (see `StableDiffusionPipeline`).
public struct GeneratePlugin: OperationPlugin {
    public init() {}

    public let method = "generate"
    public let summary = "txt2img: Stable Diffusion 1.x/2.x with A1111/diffusers samplers, schedules, seeds (cpu/cuda noise) and prompt syntax; images equal diffusers'."

    public var paramsSchema: JSONValue {
        var properties = GenerationSchema.commonProperties
        properties["width"] = GenerationSchema.sizeProperty("image width", defaultText: "default: the model's, \(GenerationDefaults.width) for SD 1.x/2.x, \(GenerationDefaults.sdxlSide) for SDXL")
        properties["height"] = GenerationSchema.sizeProperty("image height", defaultText: "default: the model's, \(GenerationDefaults.height) for SD 1.x/2.x, \(GenerationDefaults.sdxlSide) for SDXL")
        properties["refiner"] = RefinerSchema.property
        properties["adapters"] = T2IAdapterParams.schema
        return ["type": "object", "properties": .object(properties), "required": ["model", "prompt"], "additionalProperties": false]
    }

    public var resultSchema: JSONValue? {
        ResultSchemas.object(GenerationResultSchema.txt2imgProperties, required: GenerationResultSchema.txt2imgRequired)
    }

    public var capabilities: [String: JSONValue] { GenerationCapabilities.members }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        try PrecisionParam.run(try PrecisionParam.resolve(params["precision"])) { try runResolved(params: params, context: context) }
    }

    private func runResolved(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let p = try GenerateParams(params)
        var request = try p.generation.request()
        try GenerationParams.checkSize(request)
        let outputs = try p.generation.resolveOutputs(batch: request.batchSize, context: context)
        let base = try CheckpointLookup.model(named: try p.generation.requiredModel(), context: context)
        let (model, loraMembers) = try LoRALookup.apply(p.generation.extraNetworks, to: base, context: context)
        // txt2img starts from noise, which an SDXL refiner cannot.
        try RefinerRoles.check(base: model)
        // The family's default size is known only now; sizes that were sent passed checkSize above.
        p.generation.applyDefaultSize(of: model, to: &request)
        request.controls = try ControlLookup.inputs(p.generation.controls, model: model, context: context)
        let embeddingHypernetworkMembers = try EmbeddingsAndHypernetworks.apply(p.generation.hypernetworks, model: model,
                                                                                to: &request, context: context)
        let refiner = try p.refiner.map { try RefinerLookup.handoff($0, base: model, context: context) }
        let adapters = try T2IAdapterParams(params).resolve(context: context)
        request.adapters = try T2IAdapterParams.controls(adapters, width: request.width, height: request.height)
        try context.checkCancelled()
        return try GenerationRunner(context: context).run(request, model: model, refiner: refiner,
                                                          preview: p.generation.preview, outputs: outputs,
                                                          ignored: p.generation.sdxl.ignoredMember(for: model)
                                                            .merging(T2IAdapterParams.member(adapters)) { $1 }
                                                            .merging(embeddingHypernetworkMembers) { own, _ in own }
                                                            .merging(loraMembers) { own, _ in own })
    }
}

extension GeneratePlugin: MemoryEstimating {
    public func estimateMemory(params: [String: JSONValue], context: JobContext) throws -> MemoryEstimate? {
        GenerationMemoryEstimate.estimate(params: params, context: context, encodes: false)
    }
}
