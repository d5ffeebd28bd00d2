import StrictJSON
import PluginAPI

/// Schema pieces of the `loras` request member and the `loras` result member.
public enum LoRASchema {
    public static let maxAdapters = 32

    public static let property: JSONValue = [
        "type": "array", "maxItems": JSONValue(maxAdapters),
        "description": "LoRA / LyCORIS files under <models>/loras/ to apply, in order (combined with <lora:NAME:W> tags in the prompts, which come after these); W' = W + weight·(α/r)·ΔW, the base model is never changed",
        "items": [
            "type": "object", "additionalProperties": false, "required": ["name"],
            "properties": [
                "name": ["type": "string", "minLength": 1, "maxLength": 512,
                         "description": "path under loras/ without extension (subfolders with '/'), or with it"],
                "weight": ["type": "number", "minimum": -100, "maximum": 100, "description": "strength of both networks (default 1)"],
                "text_encoder_weight": ["type": "number", "minimum": -100, "maximum": 100, "description": "text encoders' strength (default: weight)"],
                "unet_weight": ["type": "number", "minimum": -100, "maximum": 100, "description": "UNet's strength (default: weight)"],
                "dyn": ["type": "integer", "minimum": 1,
                        "description": "A1111's DyLoRA dyn=N: use only the first N ranks of each LoRA/LoCon module (rows of down, columns of up; scale stays alpha over the full rank; N at or above the rank uses all)"],
            ],
        ],
    ]

    public static let result: JSONValue = [
        "type": "array",
        "description": "per adapter applied (present when any was asked for): weights used, what its shapes say it is, and how its modules met the model",
        "items": ResultSchemas.object([
            "name": ["type": "string"],
            "weight": ["type": "number"], "text_encoder_weight": ["type": "number"], "unet_weight": ["type": "number"],
            "dyn": ["type": "integer", "minimum": 1, "description": "the DyLoRA rank limit asked for (absent: all ranks)"],
            "family": ["type": ["string", "null"], "description": "sd1, sd2 or sdxl from its shapes; null when they do not tell"],
            "type": ["type": "string", "enum": ["lora", "locon", "loha", "lokr", "full", "dora"]],
            "matched": ["type": "integer", "minimum": 1, "description": "modules (adapted layers) applied"],
            "total": ["type": "integer", "minimum": 1, "description": "modules in the file"],
            "unmatched": ["type": "array", "items": ["type": "string"], "maxItems": 20,
                          "description": "the first 20 keys that matched no layer (or whose shapes do not fit it, with why)"],
            "unmatched_count": ["type": "integer", "minimum": 0],
            "warning": ["type": "string", "description": "present when the adapter matched only partly"],
            "bundled_embeddings": ["type": "array", "description": "textual-inversion embeddings the file bundles (bundle_emb.NAME.*), usable by NAME in the prompts with this LoRA (an embeddings-folder file of the same name wins)",
                                   "items": ResultSchemas.object([
                                       "name": ["type": "string", "minLength": 1],
                                       "vectors": ["type": "integer", "minimum": 1],
                                       "family": ["type": "string"],
                                       "error": ["type": "string", "description": "why it cannot be used (the LoRA still applies)"],
                                   ], required: ["name"])],
        ], required: ["name", "weight", "text_encoder_weight", "unet_weight", "family", "type", "matched", "total", "unmatched", "unmatched_count"]),
    ]
}
