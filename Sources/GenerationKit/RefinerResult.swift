import Engine
import PluginAPI
import StrictJSON

/// The result member `refiner` of a run with a hand-off: which model refined, where it took over, and how many of
/// the result's `steps` were its.
public enum RefinerResult {
    public static func member(_ refiner: RefinerHandoff, steps: Int) -> JSONValue {
        ["model": .string(refiner.model.name), "switch_at": .double(refiner.switchAt), "steps": JSONValue(steps)]
    }

    public static var schema: JSONValue {
        ResultSchemas.object(
            ["model": GenerationResultSchema.model,
             "switch_at": ["type": "number", "exclusiveMinimum": 0, "maximum": 1],
             "steps": ["type": "integer", "minimum": 0, "description": "the refiner's part of steps"]],
            required: ["model", "switch_at", "steps"],
            description: "present when the request had a refiner")
    }
}
