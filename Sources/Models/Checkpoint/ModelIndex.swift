import Foundation
import StrictJSON

/// The parts of a diffusers folder's `model_index.json` the loader reads: which components the pipeline
/// has and its registered options. Other keys (`_class_name`, `feature_extractor`, …) are ignored.
struct ModelIndex {
    /// What the index says about one component slot.
    enum Component: Equatable {
        /// `["transformers", "CLIPTextModel"]`: the folder must hold it.
        case present(className: String)
        /// `[null, null]` or `null`: the pipeline has none (the SDXL refiner's `text_encoder`).
        case absent
        /// The key is missing: the folder decides.
        case unspecified
    }

    var components: [String: Component]
    var forceZerosForEmptyPrompt: Bool?
    var requiresAestheticsScore: Bool?

    func component(_ name: String) -> Component { components[name] ?? .unspecified }

    static func read(_ path: String) throws -> ModelIndex {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.missingFile(path: path)
        }
        let root: [String: JSONValue]
        do {
            guard let object = try JSONParser.parse([UInt8](data)).objectValue else {
                throw CheckpointError.invalidJSON(path: path, reason: "not a JSON object")
            }
            root = object
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.invalidJSON(path: path, reason: String(describing: error))
        }
        func flag(_ key: String) throws -> Bool? {
            guard let value = root[key], value != .null else { return nil }
            guard let bool = value.boolValue else {
                throw CheckpointError.invalidJSON(path: path, reason: "\(key): expected a boolean, found \(value.typeName)")
            }
            return bool
        }
        var components: [String: Component] = [:]
        for (key, value) in root where !key.hasPrefix("_") {
            guard let pair = value.arrayValue else {
                if value == .null { components[key] = .absent }
                continue  // a registered option such as force_zeros_for_empty_prompt
            }
            guard pair.count == 2 else {
                throw CheckpointError.invalidJSON(path: path, reason: "\(key): expected [library, class]")
            }
            components[key] = pair[1].stringValue.map { .present(className: $0) } ?? .absent
        }
        return ModelIndex(components: components,
                          forceZerosForEmptyPrompt: try flag("force_zeros_for_empty_prompt"),
                          requiresAestheticsScore: try flag("requires_aesthetics_score"))
    }
}
