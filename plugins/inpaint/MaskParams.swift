import DiffusionProtocol
import Engine
import Imaging
import PluginAPI
import StrictJSON

/// The mask parameters shared by `inpaint` and `outpaint`: where the mask comes from and the options applied
/// to it (see protocol/masks.md for the polarity: white / transparent = repaint, black / opaque = keep).
public enum MaskParams {
    static let maxGrow = 1024
    static let maxFeather = 512.0

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

    /// The user's options from the request (already schema-validated).
    public static func options(_ params: [String: JSONValue]) -> MaskOptions {
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
        return options
    }

    /// Loads the mask for `image` and applies the options (fit, invert, threshold, grow, feather in that order).
    public static func resolve(_ params: [String: JSONValue], image: VipsImage, context: JobContext) throws -> Mask {
        let raw: Mask
        if params["mask"]?["from_alpha"]?.boolValue == true {
            guard image.hasAlpha else {
                throw PluginError.invalidParam(field: "mask.from_alpha",
                    reason: "the image has no alpha channel; send a mask image or an image with transparency")
            }
            raw = try imaging(field: "image") { try Mask(alphaOf: image) }
        } else {
            let picture = try context.loadImage(params["mask"], field: "mask")
            raw = try imaging(field: "mask") { try Mask(maskImage: picture) }
        }
        let options = options(params)
        return try imaging(field: raw.size == image.size ? "mask" : "resize_mask") {
            try raw.applying(options, imageSize: image.size)
        }
    }

    /// Runs imaging/inpainting work, naming `field` in any error.
    public static func imaging<T>(field: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ImagingError {
            throw PluginError(e, field: field)
        } catch let e as InpaintError {
            throw PluginError.invalidParam(field: field, reason: e.description)
        }
    }
}
