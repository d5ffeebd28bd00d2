import DiffusionProtocol
import Engine
import PluginAPI
import StrictJSON

/// `generate`: txt2img with a resident Stable Diffusion 1.x/2.x model (see `StableDiffusionPipeline`).
public struct GeneratePlugin: OperationPlugin {
    public init() {}

    public let method = "generate"
    public let summary = "txt2img: Stable Diffusion 1.x/2.x with A1111/diffusers samplers, schedules, seeds (cpu/cuda noise) and prompt syntax; images equal diffusers'."

    public var paramsSchema: JSONValue {
        var properties = GenerationParams.commonProperties
        properties["width"] = GenerationParams.sizeProperty("image width", defaultText: "default 512")
        properties["height"] = GenerationParams.sizeProperty("image height", defaultText: "default 512")
        return ["type": "object", "properties": .object(properties), "required": ["model", "prompt"], "additionalProperties": false]
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let request = try GenerationParams.request(from: params)
        try GenerationParams.checkSize(request)
        let outputs = try GenerationParams.outputs(params, batch: request.batchSize, context: context)
        let runner = GenerationRunner(context: context)
        let model = try runner.model(params)
        try context.checkCancelled()
        return try runner.run(request, model: model, params: params, outputs: outputs)
    }
}
