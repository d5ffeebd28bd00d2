import StrictJSON
import DiffusionProtocol
import Engine

/// How resident and listed models appear on the wire, shared by `status` and `models.*` so both describe a
/// model with the same members.
public enum ModelReport {
    /// `{"kind", "name", "path", "bytes", ...details}` (+ `variant` when not the stored file).
    public static func resident(_ info: ResidentModelInfo) -> JSONValue {
        var o = details(info.details)
        o["kind"] = .string(info.key.kind.rawValue)
        o["name"] = .string(info.key.name)
        if !info.key.variant.isEmpty { o["variant"] = .string(info.key.variant) }
        o["path"] = .string(info.path)
        o["bytes"] = JSONValue(info.bytes)
        if info.key.kind == .stableDiffusion { o["lora_patched_bytes"] = JSONValue(info.patchedBytes) }
        return .object(o)
    }

    /// `{"name", "kind", "format", "path", "loaded", "bytes" (when loaded), ...details, "error" (when unreadable)}`.
    public static func listing(_ l: ModelListing) -> JSONValue {
        var o = details(l.details)
        o["name"] = .string(l.name)
        o["kind"] = .string(l.kind.rawValue)
        o["format"] = .string(l.format)
        o["path"] = .string(l.path)
        o["loaded"] = .bool(l.loaded)
        if let bytes = l.bytes { o["bytes"] = JSONValue(bytes) }
        if let problem = l.problem { o["error"] = .string(problem) }
        return .object(o)
    }

    /// The host's budget figures, as every `models.*` result carries them.
    public static func budget(_ host: ModelHost) -> [String: JSONValue] {
        ["resident_bytes": JSONValue(host.residentBytes),
         "memory_budget_bytes": host.budgetBytes.map { JSONValue($0) } ?? .null]
    }

    /// Detected facts are kept as text by the engine; on the wire booleans and numbers are typed.
    static func details(_ d: [String: String]) -> [String: JSONValue] {
        d.mapValues { text in
            if text == "true" { return .bool(true) }
            if text == "false" { return .bool(false) }
            if let i = Int(text) { return JSONValue(i) }
            if text.contains("."), let x = Double(text), x.isFinite { return .double(x) }
            return .string(text)
        }
    }

    // MARK: - schemas (one definition for status and models.*)

    /// Members detected from a model's files or at load; which appear depends on the kind.
    static var detailProperties: [String: JSONValue] {
        [
            "family": ["type": "string", "description": "family detected from the files (sd1, sd2, sdxl, sdxl-refiner; an adapter's or a ControlNet's: the family it conditions; embeddings by width, hypernetworks by their cross-attention width)"],
            "lora_type": ["type": "string", "enum": ["lora", "locon", "loha", "lokr", "full", "dora"], "description": "a LoRA file's adapter type"],
            "modules": ["type": "integer", "minimum": 0, "description": "layers a LoRA file adapts"],
            "prediction": ["type": "string", "enum": ["epsilon", "v_prediction"], "description": "what the UNet predicts"],
            "inpainting": ["type": "boolean", "description": "a 9-channel inpainting UNet"],
            "unet_in_channels": ["type": "integer", "minimum": 1],
            "dtypes": ["type": "string", "description": "stored element types of the weights, comma-separated (F16, F32, ...)"],
            "architecture": ["type": "string", "description": "upscaler network (RRDBNet, SRVGGNetCompact)"],
            "scale": ["type": "number", "exclusiveMinimum": 0, "description": "upscaler output/input size factor the file promises"],
            "network_scale": ["type": "integer", "minimum": 1, "description": "the upscaler network's own factor"],
            "declared_scale": ["type": "number", "exclusiveMinimum": 0],
            "adapter_type": ["type": "string", "enum": ["full", "light", "xl"], "description": "T2I-Adapter architecture"],
            "hint_channels": ["type": "integer", "minimum": 1, "description": "channels of the control picture an adapter or a ControlNet takes (1 grey, 3 RGB)"],
            "downscale": ["type": "integer", "minimum": 1, "description": "a T2I-Adapter's pixel-unshuffle factor; output sides must be multiples of it"],
            "controlnet_variant": ["type": "string", "enum": ["full", "mid", "small"],
                                   "description": "ControlNet size: full = the family UNet's encoder depth, mid = shallower attention (diffusers' SDXL -mid), small = no transformer layers (-small)"],
            "global_pool_conditions": ["type": "boolean", "description": "ControlNet: a shuffle-type model that mean-pools its residuals"],
            "layout": ["type": "string", "enum": ["diffusers", "safetensors", "ckpt"], "description": "ControlNet: how its weights are stored"],
            "channel_order": ["type": "string", "enum": ["rgb", "bgr"], "description": "ControlNet: the hint's channel order"],
            // Embeddings and hypernetworks (kind embedding / hypernetwork).
            "file_bytes": ["type": "integer", "minimum": 0, "description": "size of the file on disk"],
            "vectors": ["type": "integer", "minimum": 1, "description": "embedding: tokens it takes in a prompt"],
            "width": ["type": "integer", "minimum": 1, "description": "embedding: vector width (768 sd1, 1024 sd2)"],
            "clip_l_width": ["type": "integer", "minimum": 1, "description": "SDXL embedding: the first encoder's vector width"],
            "clip_g_width": ["type": "integer", "minimum": 1, "description": "SDXL embedding: the second encoder's vector width"],
            "widths": ["type": ["string", "integer"], "description": "hypernetwork: the context widths it has modules for, comma-separated"],
            "layer_structure": ["type": ["string", "integer"], "description": "hypernetwork: layer size factors, comma-separated"],
            "activation": ["type": "string", "description": "hypernetwork: activation_func"],
            // Loaded models (kind any).
            "precision": ["type": "string", "enum": ["fp32", "bf16"], "description": "the precision the resident model computes in"],
            "weights": ["type": "string", "enum": ["stored", "half", "fp32"], "description": "how its weight matrices are resident (serve --weights)"],
        ]
    }

    static let kindSchema: JSONValue = ["type": "string", "enum": .array(ModelKind.allCases.map { .string($0.rawValue) })]

    /// One entry of `status.models_loaded`.
    public static var residentSchema: JSONValue {
        var p = detailProperties
        p["kind"] = kindSchema
        p["name"] = ["type": "string", "minLength": 1]
        p["variant"] = ["type": "string", "description": "the variant (adapter set) when not the file as stored"]
        p["path"] = ["type": "string"]
        p["bytes"] = ["type": "integer", "minimum": 0, "description": "what the memory budget counts for it: its weights with the bf16 copies bf16 jobs made of them, a checkpoint's plus lora_patched_bytes"]
        p["lora_patched_bytes"] = ["type": "integer", "minimum": 0,
                                   "description": "a checkpoint's copies of the tensors its kept LoRA set patched, with their bf16 copies once bf16 jobs made them (0 when none is kept); included in bytes"]
        return ResultSchemas.object(p, required: ["kind", "name", "path", "bytes"])
    }

    /// One entry of `models.list`.
    public static var listingSchema: JSONValue {
        var p = detailProperties
        p["name"] = ["type": "string", "minLength": 1, "description": "the name to pass as model"]
        p["kind"] = kindSchema
        p["format"] = ["type": "string", "description": "diffusers (a folder), the file extension, or resident for a loaded model whose file is gone"]
        p["path"] = ["type": "string"]
        p["loaded"] = ["type": "boolean"]
        p["bytes"] = ["type": "integer", "minimum": 0, "description": "resident size, only when loaded"]
        p["error"] = ["type": "string", "description": "why its files cannot be read (it would fail to load)"]
        return ResultSchemas.object(p, required: ["name", "kind", "format", "path", "loaded"])
    }

    /// `resident_bytes` and `memory_budget_bytes`.
    public static var budgetProperties: [String: JSONValue] {
        ["resident_bytes": ["type": "integer", "minimum": 0, "description": "bytes held by resident models"],
         "memory_budget_bytes": ["type": ["integer", "null"], "minimum": 1, "description": "--memory-budget, or null when unlimited"]]
    }
}
