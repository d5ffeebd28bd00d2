import Engine
import Imaging
import PluginAPI
import StrictJSON

/// `adapters: [{"model", "image", "weight": 1.0, "factor": 1.0}]`: T2I-Adapters steering a generation. `model`
/// names a file or folder under `<models>/t2i_adapter/`; `weight` is diffusers' `adapter_conditioning_scale`
/// (several adapters sum their weighted features); `factor` its `adapter_conditioning_factor` (the fraction of
/// the steps, from the first, that use the adapter).
public struct T2IAdapterParams: Sendable {
    public struct Entry: Sendable {
        public var model: String
        public var image: JSONValue
        public var weight: Double
        public var factor: Double
    }

    public var entries: [Entry]
    /// What error fields start with: "" at the top level, "refine." inside upscale's `refine`.
    public var fieldPrefix: String

    public init(_ params: [String: JSONValue], fieldPrefix: String = "") {
        self.fieldPrefix = fieldPrefix
        entries = (params["adapters"]?.arrayValue ?? []).compactMap { item in
            guard let o = item.objectValue, let model = o["model"]?.stringValue, let image = o["image"] else { return nil }
            return Entry(model: model, image: image, weight: o["weight"]?.doubleValue ?? 1, factor: o["factor"]?.doubleValue ?? 1)
        }
    }

    public static var schema: JSONValue {
        ["type": "array", "maxItems": 4,
         "description": "T2I-Adapters (models under t2i_adapter/): each adapter's features from its picture, computed once per job, are added inside the UNet's down blocks (diffusers' StableDiffusionAdapterPipeline / StableDiffusionXLAdapterPipeline); the picture is fitted to the output as the operation fits its image",
         "items": ["type": "object", "additionalProperties": false, "required": ["model", "image"],
                   "properties": [
                       "model": ["type": "string", "minLength": 1, "maxLength": 256, "description": "name under t2i_adapter/ (subfolders allowed), extension optional"],
                       "image": ImageSchemas.input(description: "the control picture (RGB; grey for sketch adapters that take one channel)"),
                       "weight": ["type": "number", "minimum": -10, "maximum": 10, "description": "adapter_conditioning_scale (default 1)"],
                       "factor": ["type": "number", "minimum": 0, "maximum": 1, "description": "fraction of the steps, from the first, that use the adapter (default 1)"],
                   ]]]
    }

    /// Loads every adapter and picture, each failure naming its entry (`adapters[1].model`, `adapters[0].image`).
    public func resolve(context: JobContext) throws -> [T2IAdapterPicture] {
        try entries.enumerated().map { index, entry in
            do {
                let adapter = try context.models.t2iAdapter(named: entry.model)
                let picture = try context.loadImage(entry.image, field: "\(fieldPrefix)adapters[\(index)].image")
                return T2IAdapterPicture(index: index, name: entry.model, adapter: adapter, picture: picture,
                                         weight: entry.weight, factor: entry.factor)
            } catch let e as EngineError {
                throw PluginError.invalidParam(field: "\(fieldPrefix)adapters[\(index)].model", reason: e.description)
            }
        }
    }

    /// The engine's adapters for a run of `width` × `height`, each picture fitted with `mode`.
    public static func controls(_ pictures: [T2IAdapterPicture], width: Int, height: Int,
                                mode: ResizeMode = .justResize) throws -> [T2IAdapterControl] {
        try pictures.map { entry in
            let fitted: VipsImage
            do { fitted = try mode.apply(entry.picture, width: width, height: height) } catch let e as ImagingError {
                throw PluginError(e, field: "adapters[\(entry.index)].image")
            }
            return try entry.control(fitted: fitted)
        }
    }

    /// The result member `adapters`, absent without adapters.
    public static func member(_ pictures: [T2IAdapterPicture]) -> [String: JSONValue] {
        guard !pictures.isEmpty else { return [:] }
        return ["adapters": .array(pictures.map { p in
            ["model": .string(p.name), "weight": .double(p.weight), "factor": .double(p.factor),
             "adapter_type": .string(p.adapter.config.variant), "family": .string(p.adapter.config.family)]
        })]
    }

    public static var resultSchema: JSONValue {
        ["type": "array", "minItems": 1, "description": "the T2I-Adapters that steered the run; absent without adapters",
         "items": ResultSchemas.object(
            ["model": ["type": "string"], "weight": ["type": "number"], "factor": ["type": "number"],
             "adapter_type": ["type": "string", "enum": ["full", "light", "xl"]], "family": ["type": "string"]],
            required: ["model", "weight", "factor", "adapter_type", "family"], description: "one adapter")]
    }
}
