import DiffusionProtocol
import Imaging
import PluginAPI
import Preprocessors
import StrictJSON

/// `preprocess`: run one model-free ControlNet preprocessor on an image and return the control image itself
/// (at the input's size), so an editor can show what a `control[i].preprocess` would feed the ControlNet.
public struct PreprocessPlugin: OperationPlugin {
    public init() {}

    public let method = "preprocess"
    public let summary = "Make a ControlNet control image without a model (canny, scribble_xdog, threshold, invert, lineart_standard, color, tile_resample), as sd-webui-controlnet does, at the input's size."

    public var paramsSchema: JSONValue {
        var properties = PreprocessorParameters.schemaProperties
        properties["image"] = ImageSchemas.input(description: "the image to preprocess (alpha is composited over white)")
        properties["preprocess"] = ["type": "string", "enum": .array(ControlPreprocessor.names.map { .string($0) }),
                                    "description": "the preprocessor"]
        properties["output"] = ImageSchemas.output(description: "where to put the control image (default: inline PNG as base64)")
        return ["type": "object", "properties": .object(properties), "required": ["image", "preprocess"],
                "additionalProperties": false]
    }

    public var resultSchema: JSONValue? {
        ResultSchemas.object(["image": ResultSchemas.looseImage(description: ResultSchemas.outputImageDescription),
                              "preprocess": ["type": "string"],
                              "detected": ResultSchemas.size(minimum: 1, description: "size of the map the preprocessor made before it was resized back to the input's size"),
                              "timings": ResultSchemas.daemonTimings(description: nil)],
                             required: ["image", "preprocess", "detected", "timings"])
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let request = try PreprocessRequest(params)
        let output = try context.resolveOutput(params["output"], field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(params["image"], field: "image")
        try context.checkCancelled()

        let working = request.preprocessor.workingSize(width: image.width, height: image.height, parameters: request.parameters)
        do {
            // Float planes for the blurs: 3 bands of 4 bytes.
            try context.imageLimits.check(width: working.width, height: working.height, bands: 3, bytesPerSample: 4)
        } catch ImagingError.tooLarge(let width, let height, let limit) {
            throw PluginError.invalidParam(
                field: "resolution",
                reason: "\(request.parameters.resolution) needs a \(width)x\(height) working image, over the daemon's limit (\(limit)); use a lower resolution")
        }
        context.progress(stage: request.preprocessor.name, step: 1, steps: 3)
        let input: ByteImage
        do { input = try ByteImage(hwc3: image) } catch let e as PreprocessorError {
            throw PluginError.unsupportedImage(field: "image", detail: e.reason)
        }
        let detected: ByteImage, control: ByteImage
        do throws(PreprocessorError) {
            detected = try request.preprocessor.detectedMap(for: input, parameters: request.parameters)
            control = try request.preprocessor.resizedBack(detected, width: input.width, height: input.height)
        } catch {
            throw PreprocessRequest.pluginError(error)
        }
        try context.checkCancelled()

        context.progress(stage: "write", step: 2, steps: 3)
        let described = try context.deliver(try control.vipsImage(), to: output, field: "output")
        context.progress(stage: "write", step: 3, steps: 3)
        return ["image": described, "preprocess": .string(request.preprocessor.name),
                "detected": ["width": JSONValue(detected.width), "height": JSONValue(detected.height)]]
    }
}
