import StrictJSON
import DiffusionProtocol
import PluginAPI

/// Result schemas of `models.list`, `models.load` and `models.unload`.
enum ModelSchemas {
    static var budget: [String: JSONValue] {
        [
            "resident_bytes": ["type": "integer", "minimum": 0, "description": "bytes held by resident models"],
            "memory_budget_bytes": ["type": ["integer", "null"], "minimum": 1, "description": "--memory-budget, or null when unlimited"],
            "timings": ResultSchemas.daemonTimings(),
        ]
    }
    static let budgetRequired = ["resident_bytes", "memory_budget_bytes"]
    static let modelName: JSONValue = ["type": "string", "minLength": 1, "description": "the model's name in the models directory"]
    static let resident: JSONValue = ["type": "array", "items": ["type": "string"], "description": "names of the resident models after the call"]

    static var listResult: JSONValue {
        var properties = budget
        properties["models"] = ["type": "array", "items": ResultSchemas.object(
            ["name": ["type": "string", "minLength": 1, "description": "the name to pass as model"],
             "path": ["type": "string"],
             "kind": ["type": "string", "enum": ["diffusers", "safetensors", "ckpt", "pt", "pth", "resident"],
                      "description": "a diffusers folder, a single-file checkpoint by extension, or resident for a loaded model whose file is gone"],
             "loaded": ["type": "boolean"],
             "bytes": ["type": "integer", "minimum": 0, "description": "resident size, only when loaded"]],
            required: ["name", "path", "kind", "loaded"])]
        return ResultSchemas.object(properties, required: budgetRequired + ["models", "timings"])
    }

    static var loadResult: JSONValue {
        var properties = budget
        properties["model"] = modelName
        properties["bytes"] = ["type": "integer", "minimum": 0, "description": "the model's resident size"]
        properties["resident"] = resident
        return ResultSchemas.object(properties, required: budgetRequired + ["model", "bytes", "resident", "timings"])
    }

    static var unloadResult: JSONValue {
        var properties = budget
        properties["model"] = modelName
        properties["unloaded"] = ["type": "boolean", "description": "false when it was not resident"]
        properties["resident"] = resident
        return ResultSchemas.object(properties, required: budgetRequired + ["model", "unloaded", "resident", "timings"])
    }
}
