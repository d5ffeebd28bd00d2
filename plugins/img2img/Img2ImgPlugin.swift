import DiffusionProtocol
import Engine
import GeneratePlugin
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
        var properties = GenerationParams.commonProperties
        properties["image"] = ImageSchemas.input(description: "the source image (alpha is dropped)")
        properties["strength"] = ["type": "number", "exclusiveMinimum": 0, "maximum": 1,
                                  "description": "how much of the schedule to run (diffusers' strength / A1111's denoising strength; default 0.75)"]
        properties["resize_mode"] = ["type": "string", "enum": .array(ResizeMode.allCases.map { .string($0.rawValue) }),
                                     "description": "how the image is fitted to width × height (default just resize)"]
        properties["width"] = GenerationParams.sizeProperty("output width", defaultText: "default: the image's width rounded down to a multiple of 8")
        properties["height"] = GenerationParams.sizeProperty("output height", defaultText: "default: the image's height rounded down to a multiple of 8")
        return ["type": "object", "properties": .object(properties), "required": ["model", "prompt", "image"], "additionalProperties": false]
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        var request = try GenerationParams.request(from: params)
        request.strength = params["strength"]?.doubleValue ?? 0.75
        let mode = ResizeMode(name: params["resize_mode"]?.stringValue ?? ResizeMode.justResize.rawValue) ?? .justResize
        let outputs = try GenerationParams.outputs(params, batch: request.batchSize, context: context)

        let source = try context.loadImage(params["image"], field: "image")
        request.width = params["width"]?.intValue ?? source.width / 8 * 8
        request.height = params["height"]?.intValue ?? source.height / 8 * 8
        guard request.width >= 8, request.height >= 8 else {
            throw PluginError.invalidParam(field: "image", reason: "is \(source.width)x\(source.height); give width/height of at least 8")
        }
        try GenerationParams.checkSize(request)
        do {
            let fitted = try mode.apply(source, width: request.width, height: request.height)
            request.initImage = try fitted.toTensor()
        } catch let e as ImagingError {
            throw PluginError(e, field: "image")
        }
        try context.checkCancelled()
        let runner = GenerationRunner(context: context)
        let model = try runner.model(params)
        try context.checkCancelled()
        var result = try runner.run(request, model: model, params: params, outputs: outputs)
        if case .object(var o) = result {
            o["strength"] = .double(request.strength)
            o["resize_mode"] = .string(mode.rawValue)
            result = .object(o)
        }
        return result
    }
}
