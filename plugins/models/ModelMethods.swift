import DiffusionProtocol
import Engine
import GenerationKit
import PluginAPI
import StrictJSON

/// `models.list`, `models.load`, `models.unload`: the daemon's one model host, shared by all operations.
/// `models.list` and `models.unload` only read or drop references, so they answer at once even while a job
/// runs; `models.load` is a job like any operation (cancellable before it starts, never blocking the network).
public enum ModelMethods {
    public static func all() -> [any OperationPlugin] { [ListModels(), LoadModel(), UnloadModel()] }

    static let nameOnly: JSONValue = [
        "type": "object", "required": ["model"], "additionalProperties": false,
        "properties": ["model": ["type": "string", "minLength": 1, "maxLength": 255, "description": "model name (see models.list)"]],
    ]

    static func residentNames(_ host: ModelHost) -> JSONValue {
        .array(host.residentModels().map { .string($0.key.name) })
    }

    public struct ListModels: OperationPlugin {
        public init() {}
        public let method = "models.list"
        public let summary = "Every model the daemon can use (Stable Diffusion checkpoints, upscalers, and the LoRA / LyCORIS files of loras/) with its kind, format and what its files say (family, prediction type, inpainting, architecture; a LoRA's family, type, modules and size, from headers only), and which are resident. Answers at once, even while a job runs."
        public var paramsSchema: JSONValue { ["type": "object", "properties": [:], "additionalProperties": false] }
        public var scheduling: PluginScheduling { .immediate }
        public var resultSchema: JSONValue? { ModelSchemas.listResult }
        public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
            var o = ModelReport.budget(context.models)
            o["models"] = .array(context.models.catalog().map(ModelReport.listing))
            return .object(o)
        }
    }

    public struct LoadModel: OperationPlugin {
        public init() {}
        public let method = "models.load"
        public let summary = "Load a model now (a Stable Diffusion checkpoint, else an upscaler, else a ControlNet of that name), evicting least recently used ones beyond --memory-budget; a failed load leaves resident models as they were."
        public var paramsSchema: JSONValue { nameOnly }
        public var resultSchema: JSONValue? { ModelSchemas.loadResult }
        public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
            let host = context.models
            let name = params["model"]?.stringValue ?? ""
            context.progress(stage: "load_model", step: 0, steps: 1)
            let loaded: (name: String, kind: ModelKind)
            do {
                do {
                    loaded = (try host.stableDiffusion(named: name).name, .stableDiffusion)
                } catch EngineError.modelNotFound(_, let checkpoints) {
                    if let folder = host.upscalerDirectory, UpscalerCatalog.resolve(name, in: folder) != nil {
                        _ = try host.upscaler(named: name)
                        loaded = (name, .upscaler)
                    } else if let folder = host.controlNetFolder, folder.resolve(name) != nil {
                        _ = try host.controlNet(named: name)
                        loaded = (name, .controlnet)
                    } else {
                        let upscalers = host.upscalerDirectory.map(UpscalerCatalog.available(in:)) ?? []
                        let controlNets = host.controlNetFolder?.names() ?? []
                        throw EngineError.modelNotFound(name: name, available: checkpoints + upscalers + controlNets)
                    }
                }
            } catch let e as EngineError {
                throw PluginError.invalidParam(field: "model", reason: e.description)
            }
            context.progress(stage: "load_model", step: 1, steps: 1)
            var o = ModelReport.budget(host)
            o["model"] = .string(loaded.name)
            o["kind"] = .string(loaded.kind.rawValue)
            o["bytes"] = JSONValue(host.residentModels().filter { $0.key.name == loaded.name && $0.key.kind == loaded.kind }
                .reduce(0) { $0 + $1.bytes })
            o["resident"] = ModelMethods.residentNames(host)
            return .object(o)
        }
    }

    public struct UnloadModel: OperationPlugin {
        public init() {}
        public let method = "models.unload"
        public let summary = "Drop a resident model of any kind (requests already using it finish first). Answers at once."
        public var paramsSchema: JSONValue { nameOnly }
        public var scheduling: PluginScheduling { .immediate }
        public var resultSchema: JSONValue? { ModelSchemas.unloadResult }
        public func run(params: [String: JSONValue], context: JobContext) throws -> JSONValue {
            let host = context.models
            let requested = params["model"]?.stringValue ?? ""
            let name = (try? host.stableDiffusionDirectory?.resolve(requested).name) ?? requested
            var unloaded = false
            for kind in ModelKind.allCases where host.unload(kind: kind, name: name) { unloaded = true }
            var o = ModelReport.budget(host)
            o["model"] = .string(name)
            o["unloaded"] = .bool(unloaded)
            o["resident"] = ModelMethods.residentNames(host)
            return .object(o)
        }
    }
}
