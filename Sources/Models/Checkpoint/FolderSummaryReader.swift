import Foundation
import StrictJSON
import Weights

/// The config values families are told apart by, read from a diffusers folder's files: model_index.json
/// (`requires_aesthetics_score`), text_encoder/ and text_encoder_2/ configs when present, and the UNet
/// config's added-embedding keys (read from the JSON itself: `UNetConfig` need not decode them).
enum FolderSummaryReader {
    static func summary(of path: String, text: CLIPTextConfig?, unet: UNetConfig) throws -> DiffusersFolderSummary {
        let root = path as NSString
        var summary = DiffusersFolderSummary(text: text, unet: unet)
        summary.unetAdditionEmbedType = unet.additionEmbedType
        let unetJSON = try object(root.appendingPathComponent("unet/config.json"))
        summary.unetProjectionClassEmbeddingsInputDim = unetJSON?["projection_class_embeddings_input_dim"]?.intValue
        summary.unetAdditionTimeEmbedDim = unetJSON?["addition_time_embed_dim"]?.intValue
        let secondConfig = root.appendingPathComponent("text_encoder_2/config.json")
        if FileManager.default.fileExists(atPath: secondConfig) {
            let second: CLIPTextConfig = try DiffusersFolder.decodeJSON(secondConfig)
            summary.hasTextEncoder2 = true
            summary.textEncoder2ProjectionDim = second.projectionDim
        }
        summary.requiresAestheticsScore = try object(root.appendingPathComponent("model_index.json"))?[
            "requires_aesthetics_score"]?.boolValue
        return summary
    }

    /// A component's config, when the folder's model_index.json names the component (SDXL refiner folders
    /// list `text_encoder` as [null, null] and have no such folder).
    static func optionalConfig<T: Decodable>(_ path: String, component: String) throws -> T? {
        let file = (path as NSString).appendingPathComponent("\(component)/config.json")
        guard FileManager.default.fileExists(atPath: file) else {
            let index = try object((path as NSString).appendingPathComponent("model_index.json"))
            if let entry = index?[component]?.arrayValue, entry.allSatisfy({ $0 == .null }) { return nil }
            throw CheckpointError.missingFile(path: file)
        }
        return try DiffusersFolder.decodeJSON(file) as T
    }

    private static func object(_ path: String) throws -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: path) else { throw CheckpointError.missingFile(path: path) }
        do {
            return try JSONParser.parse([UInt8](data))
        } catch {
            throw CheckpointError.invalidJSON(path: path, reason: String(describing: error))
        }
    }
}
