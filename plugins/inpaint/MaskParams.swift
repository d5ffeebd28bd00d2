import DiffusionProtocol
import Engine
import GenerationKit
import Imaging
import PluginAPI
import StrictJSON

/// The mask members of `inpaint`: where the mask comes from and the options applied to it (see protocol/masks.md
/// for the polarity: white / transparent = repaint, black / opaque = keep).
public struct MaskParams: Sendable {
    static let maxGrow = 1024
    static let maxFeather = 512.0

    /// `{"path"}` or `{"base64"}` (an image), or nil for `{"from_alpha": true}`.
    public var source: JSONValue?
    public var fromAlpha: Bool
    public var options: MaskOptions

    public init(_ params: [String: JSONValue]) {
        source = params["mask"]
        fromAlpha = params["mask"]?["from_alpha"]?.boolValue == true
        var options = MaskOptions()
        options.invert = params["invert"]?.boolValue ?? false
        options.threshold = params["threshold"]?.doubleValue.map { Float($0) }
        options.grow = params["grow"]?.intValue ?? 0
        if let sigma = params["feather"]?.doubleValue {
            options.featherX = sigma
            options.featherY = sigma
        } else if let o = params["feather"]?.objectValue {
            options.featherX = o["x"]?.doubleValue ?? 0
            options.featherY = o["y"]?.doubleValue ?? 0
        }
        options.resizeToImage = params["resize_mask"]?.boolValue ?? false
        self.options = options
    }

    /// Schema entries for the mask options (not the mask source itself).
    public static var optionSchemas: [String: JSONValue] {
        [
            "invert": ["type": "boolean", "description": "swap repaint and keep (default false)"],
            "threshold": ["type": "number", "minimum": 0, "maximum": 1,
                          "description": "binarise the mask: values ≥ threshold repaint, others keep (default: grey levels kept)"],
            "grow": ["type": "integer", "minimum": JSONValue(-maxGrow), "maximum": JSONValue(maxGrow),
                     "description": "dilate the repaint area by this many px (negative erodes)"],
            "feather": [
                "description": "Gaussian blur of the mask edge in px: one sigma, or {\"x\", \"y\"} separately",
                "oneOf": [
                    ["type": "number", "minimum": 0, "maximum": .double(maxFeather)],
                    ["type": "object", "properties": ["x": ["type": "number", "minimum": 0, "maximum": .double(maxFeather)],
                                                       "y": ["type": "number", "minimum": 0, "maximum": .double(maxFeather)]],
                     "additionalProperties": false],
                ],
            ],
            "resize_mask": ["type": "boolean",
                            "description": "resize a mask of another size to the image instead of refusing it (default false)"],
        ]
    }

    /// `{"path"}`, `{"base64"}` or `{"from_alpha": true}`.
    public static var sourceSchema: JSONValue {
        [
            "description": "the repaint mask: an image (grey, or RGB read as luminance; white = repaint) or the image's own alpha (transparent = repaint)",
            "type": "object",
            "oneOf": [
                ["type": "object", "required": ["path"], "properties": ["path": ["type": "string", "minLength": 1, "maxLength": 4096]],
                 "additionalProperties": false],
                ["type": "object", "required": ["base64"], "properties": ["base64": ["type": "string", "minLength": 1]],
                 "additionalProperties": false],
                ["type": "object", "required": ["from_alpha"], "properties": ["from_alpha": ["type": "boolean", "const": true]],
                 "additionalProperties": false],
            ],
        ]
    }

    /// Loads the mask for `image` and applies the options (fit, invert, threshold, grow, feather in that order).
    public func resolve(image: VipsImage, context: JobContext) throws -> Mask {
        let raw: Mask
        if fromAlpha {
            guard image.hasAlpha else {
                throw PluginError.invalidParam(field: "mask.from_alpha",
                    reason: "the image has no alpha channel; send a mask image or an image with transparency")
            }
            raw = try FieldErrors.naming("image") { try Mask(alphaOf: image) }
        } else {
            let picture = try context.loadImage(source, field: "mask")
            raw = try FieldErrors.naming("mask") { try Mask(maskImage: picture) }
        }
        return try FieldErrors.naming(raw.size == image.size ? "mask" : "resize_mask") {
            try raw.applying(options, imageSize: image.size)
        }
    }

    /// Decodes the mask members of `params` and resolves them (for callers holding raw params).
    public static func resolve(_ params: [String: JSONValue], image: VipsImage, context: JobContext) throws -> Mask {
        try MaskParams(params).resolve(image: image, context: context)
    }
}
