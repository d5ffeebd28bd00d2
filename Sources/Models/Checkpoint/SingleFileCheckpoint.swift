import Foundation
import Weights

/// Loads an original (LDM) single-file checkpoint. PENDING sdref's NameMapping.
enum SingleFileCheckpoint {
    static func load(_ path: String, options: CheckpointOptions) throws -> StableDiffusionModels {
        _ = try WeightFiles.open(path)
        throw CheckpointError.unrecognised(path: path, reason: "single-file loading not wired yet")
    }
}
