import DiffusionProtocol
import Foundation
import Imaging
import PluginAPI
import StrictJSON

/// `resize`: scale an image to a size or by a factor with libvips, keeping alpha and bit depth.
public struct ResizePlugin: OperationPlugin {
    public init() {}

    public let method = "resize"
    public let summary = "Scale an image to a width/height or by a factor (lanczos3, bicubic, linear or nearest), keeping alpha and bit depth."

    /// Largest output side; the job's pixel budget (`context.imageLimits`) applies too.
    static let maxSide = 65_535

    public var paramsSchema: JSONValue {
        [
            "type": "object",
            "properties": [
                "image": ImageSchemas.input(description: "the image to resize"),
                "width": ["type": "integer", "minimum": 1, "maximum": JSONValue(Self.maxSide),
                          "description": "output width; with only width, height keeps the aspect ratio"],
                "height": ["type": "integer", "minimum": 1, "maximum": JSONValue(Self.maxSide),
                           "description": "output height; with only height, width keeps the aspect ratio"],
                "scale": ["type": "number", "exclusiveMinimum": 0, "maximum": 64,
                          "description": "factor applied to both sides (instead of width/height)"],
                "kernel": ["type": "string", "enum": .array(ResizeParams.kernels.map { .string($0.name) }),
                           "description": .string("resampling kernel (default \(ResizeParams.defaultKernel))")],
                "output": ImageSchemas.output(description: "where to put the result (default: inline PNG as base64)"),
            ],
            "required": ["image"],
            "additionalProperties": false,
        ]
    }

    public var resultSchema: JSONValue? {
        ResultSchemas.object(["image": ResultSchemas.looseImage(description: ResultSchemas.outputImageDescription),
                              "source": ResultSchemas.size(minimum: 0), "kernel": ["type": "string"],
                              "timings": ResultSchemas.daemonTimings(description: nil)],
                             required: ["image", "source", "kernel", "timings"])
    }

    public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
        let p = ResizeParams(params)
        let (width, height, scale) = (p.width, p.height, p.scale)
        if scale != nil, width != nil || height != nil {
            throw PluginError.invalidParam(field: "scale", reason: "cannot be combined with width/height; give one or the other")
        }
        if scale == nil, width == nil, height == nil {
            throw PluginError.invalidParam(field: "width", reason: "is required (or height, or scale): say what size to resize to")
        }
        // Check the destination before doing any work.
        let output = try context.resolveOutput(p.output, field: "output")

        context.progress(stage: "load", step: 0, steps: 3)
        let image = try context.loadImage(p.image, field: "image")
        try context.checkCancelled()

        let target = try Self.targetSize(source: (image.width, image.height), width: width, height: height, scale: scale)
        do {
            try context.imageLimits.check(width: target.0, height: target.1, bands: image.bands, bytesPerSample: max(1, image.bitDepth / 8))
        } catch let e as ImagingError {
            throw PluginError(e, field: scale != nil ? "scale" : "width")
        }
        context.progress(stage: "resize", step: 1, steps: 3)
        let resized: VipsImage
        do { resized = try image.resized(width: target.0, height: target.1, kernel: p.kernel) } catch let e as ImagingError {
            throw PluginError(e, field: "image")
        }
        try context.checkCancelled()
        context.progress(stage: "write", step: 2, steps: 3)
        let described = try context.deliver(resized, to: output, field: "output")
        context.progress(stage: "write", step: 3, steps: 3)
        return ["image": described, "source": ["width": JSONValue(image.width), "height": JSONValue(image.height)],
                "kernel": .string(p.kernelName)]
    }

    /// Output size: both sides given, one side (the other keeps the aspect ratio, rounded, at least 1) or a scale.
    static func targetSize(source: (Int, Int), width: Int?, height: Int?, scale: Double?) throws -> (Int, Int) {
        let (w, h) = source
        func side(_ value: Double, field: String) throws -> Int {
            let rounded = max(1, Int(value.rounded()))
            guard rounded <= maxSide else {
                throw PluginError.invalidParam(field: field, reason: "gives an output side of \(rounded) px, over the limit of \(maxSide)")
            }
            return rounded
        }
        if let scale {
            return (try side(Double(w) * scale, field: "scale"), try side(Double(h) * scale, field: "scale"))
        }
        switch (width, height) {
        case let (width?, height?): return (width, height)
        case let (width?, nil): return (width, try side(Double(h) * Double(width) / Double(w), field: "width"))
        case let (nil, height?): return (try side(Double(w) * Double(height) / Double(h), field: "height"), height)
        default: throw PluginError.invalidParam(field: "width", reason: "is required")
        }
    }
}
