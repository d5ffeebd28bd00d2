import StrictJSON
import Engine

/// The params-schema properties of `SDXLParams`, shared by every generation operation.
public enum SDXLSchema {
    static let maxSize = 16384

    public static var properties: [String: JSONValue] {
        [
            "prompt_2": ["type": "string", "maxLength": 20000,
                         "description": "SDXL: the prompt of the second text encoder (default: prompt); ignored by other models"],
            "negative_prompt_2": ["type": "string", "maxLength": 20000,
                                  "description": "SDXL: the negative prompt of the second text encoder (default: negative_prompt); ignored by other models"],
            "original_size": size("SDXL micro-conditioning: the original image size the model is told (default: the output size)"),
            "target_size": size("SDXL micro-conditioning: the target size (default: the output size)"),
            "crops_coords_top_left": crop(.string("SDXL micro-conditioning: the crop's top-left corner (default x \(GenerationDefaults.cropsCoordsTopLeft.left), y \(GenerationDefaults.cropsCoordsTopLeft.top))")),
            "negative_original_size": size("SDXL: original_size of the unconditional pass (default: original_size; txt2img uses the negative sizes only when both negative_original_size and negative_target_size are sent, as diffusers)"),
            "negative_target_size": size("SDXL: target_size of the unconditional pass (default: target_size; see negative_original_size)"),
            "negative_crops_coords_top_left": crop("SDXL: crops_coords_top_left of the unconditional pass (default: crops_coords_top_left; img2img, inpaint and outpaint always use crops_coords_top_left, as diffusers)"),
            "aesthetic_score": score(.string("SDXL refiner: the aesthetic score of the conditional pass (default \(GenerationSchema.plain(GenerationDefaults.aestheticScore)))")),
            "negative_aesthetic_score": score(.string("SDXL refiner: the aesthetic score of the unconditional pass (default \(GenerationSchema.plain(GenerationDefaults.negativeAestheticScore)))")),
        ]
    }

    static func size(_ description: JSONValue) -> JSONValue {
        ["type": "object", "additionalProperties": false, "required": ["width", "height"], "description": description,
         "properties": ["width": ["type": "integer", "minimum": 1, "maximum": JSONValue(maxSize)],
                        "height": ["type": "integer", "minimum": 1, "maximum": JSONValue(maxSize)]]]
    }

    static func crop(_ description: JSONValue) -> JSONValue {
        ["type": "object", "additionalProperties": false, "required": ["x", "y"], "description": description,
         "properties": ["x": ["type": "integer", "minimum": 0, "maximum": JSONValue(maxSize)],
                        "y": ["type": "integer", "minimum": 0, "maximum": JSONValue(maxSize)]]]
    }

    static func score(_ description: JSONValue) -> JSONValue {
        ["type": "number", "minimum": 0, "maximum": 100, "description": description]
    }

    /// The result's `ignored` member.
    public static let ignoredResult: JSONValue = [
        "type": "array", "minItems": 1, "items": ["type": "string", "enum": .array(SDXLParams.members.map { .string($0) })],
        "description": "request members the model does not use (SDXL-only members sent to an SD 1.x/2.x model); absent when none",
    ]
}
