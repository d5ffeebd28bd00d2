import StrictJSON
import DiffusionProtocol
import PluginAPI

/// Result schemas of `models.list`, `models.load` and `models.unload`.
enum ModelSchemas {
    static var budget: [String: JSONValue] {
        var properties = ModelReport.budgetProperties
        properties["timings"] = ResultSchemas.daemonTimings()
        return properties
    }
    static let budgetRequired = ["resident_bytes", "memory_budget_bytes"]
    static let modelName: JSONValue = ["type": "string", "minLength": 1, "description": "the model's name in the models directory"]
    static let resident: JSONValue = ["type": "array", "items": ["type": "string"], "description": "names of the resident models after the call"]

    static var listResult: JSONValue {
        var properties = budget
        properties["models"] = ["type": "array", "items": ModelReport.listingSchema]
        return ResultSchemas.object(properties, required: budgetRequired + ["models", "timings"])
    }

    static var loadResult: JSONValue {
        var properties = budget
        properties["model"] = modelName
        properties["kind"] = ["type": "string", "description": "what was loaded (stable-diffusion, upscaler)"]
        properties["bytes"] = ["type": "integer", "minimum": 0, "description": "the model's resident size"]
        properties["resident"] = resident
        return ResultSchemas.object(properties, required: budgetRequired + ["model", "kind", "bytes", "resident", "timings"])
    }

    static var unloadResult: JSONValue {
        var properties = budget
        properties["model"] = modelName
        properties["unloaded"] = ["type": "boolean", "description": "false when it was not resident"]
        properties["resident"] = resident
        return ResultSchemas.object(properties, required: budgetRequired + ["model", "unloaded", "resident", "timings"])
    }
}
