import DiffusionProtocol
import Engine
import GenerationKit
import PluginAPI

/// `models.list`, `models.load`, `models.unload`: the resident model cache shared by all operations.
/// They run as jobs like any operation (so a load is cancellable before it starts and never blocks the
/// network threads).
public enum ModelMethods {
    public static func all() -> [any OperationPlugin] { [ListModels(), LoadModel(), UnloadModel()] }

    static let nameOnly: JSONValue = [
        "type": "object", "required": ["model"], "additionalProperties": false,
        "properties": ["model": ["type": "string", "minLength": 1, "maxLength": 255, "description": "model name (see models.list)"]],
    ]

    static func describe(_ s: ModelCache.Status) -> JSONValue {
        var o: [String: JSONValue] = ["name": .string(s.name), "path": .string(s.path), "kind": .string(s.kind), "loaded": .bool(s.loaded)]
        if let b = s.bytes { o["bytes"] = JSONValue(b) }
        return .object(o)
    }

    static func budgetSummary(_ cache: ModelCache) -> [String: JSONValue] {
        var o: [String: JSONValue] = ["resident_bytes": JSONValue(cache.residentBytes)]
        o["memory_budget_bytes"] = cache.budgetBytes.map { JSONValue($0) } ?? .null
        return o
    }

    public struct ListModels: OperationPlugin {
        public init() {}
        public let method = "models.list"
        public let summary = "Models in the models directory (diffusers folders and single-file checkpoints) and which are resident."
        public var paramsSchema: JSONValue { ["type": "object", "properties": [:], "additionalProperties": false] }
        public var resultSchema: JSONValue? { ModelSchemas.listResult }
        public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
            let cache = SharedModels.cache(directory: context.modelsDirectory)
            var o = ModelMethods.budgetSummary(cache)
            o["models"] = .array(cache.list().map(ModelMethods.describe))
            return .object(o)
        }
    }

    public struct LoadModel: OperationPlugin {
        public init() {}
        public let method = "models.load"
        public let summary = "Load a model now (evicting least recently used ones beyond --memory-budget); a failed load leaves resident models as they were."
        public var paramsSchema: JSONValue { nameOnly }
        public var resultSchema: JSONValue? { ModelSchemas.loadResult }
        public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
            let cache = SharedModels.cache(directory: context.modelsDirectory)
            let model = try StableDiffusionModels.model(named: params["model"]?.stringValue ?? "", context: context)
            var o = ModelMethods.budgetSummary(cache)
            o["model"] = .string(model.name)
            o["bytes"] = JSONValue(model.bytes)
            o["resident"] = .array(cache.residentNames.map { .string($0) })
            return .object(o)
        }
    }

    public struct UnloadModel: OperationPlugin {
        public init() {}
        public let method = "models.unload"
        public let summary = "Drop a resident model (requests already using it finish first)."
        public var paramsSchema: JSONValue { nameOnly }
        public var resultSchema: JSONValue? { ModelSchemas.unloadResult }
        public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
            let cache = SharedModels.cache(directory: context.modelsDirectory)
            let requested = params["model"]?.stringValue ?? ""
            let name = (try? cache.directory?.resolve(requested).name) ?? requested
            let unloaded = cache.unload(name)
            var o = ModelMethods.budgetSummary(cache)
            o["model"] = .string(name)
            o["unloaded"] = .bool(unloaded)
            o["resident"] = .array(cache.residentNames.map { .string($0) })
            return .object(o)
        }
    }
}
