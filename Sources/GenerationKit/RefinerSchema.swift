import StrictJSON
import Engine

/// The params-schema property `refiner` (see `RefinerParams`), shared by generate, img2img and inpaint.
public enum RefinerSchema {
    public static var property: JSONValue {
        ["type": "object", "additionalProperties": false, "required": ["model"],
         "description": "SDXL ensemble of experts (diffusers' denoising_end/denoising_start, A1111's refiner switch): `model` runs the schedule while t >= round(1000 - switch_at * 1000), then this model continues from those latents without adding noise and its VAE decodes",
         "properties": [
            "model": GenerationSchema.modelProperty(description: "the refiner model's name (an SDXL refiner or SDXL model)"),
            "switch_at": ["type": "number", "exclusiveMinimum": 0, "maximum": 1,
                          "description": .string("fraction of the schedule the base model runs, below 1 (default \(RefinerParams.defaultSwitchAt))")],
            "aesthetic_score": ["type": "number",
                                "description": .string("the refiner's aesthetic score time id (default \(AestheticScores.defaults.positive))")],
            "negative_aesthetic_score": ["type": "number",
                                         "description": .string("the same for the unconditional pass (default \(AestheticScores.defaults.negative))")],
         ]]
    }
}
