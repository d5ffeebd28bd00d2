import Foundation
import Weights

/// The float32 bytes a ControlNet or T2I-Adapter takes once loaded, from its tensor headers (a single file, or
/// a diffusers folder's `diffusion_pytorch_model` weights): what admission control counts before loading it.
public enum AdapterWeightFootprint {
    public static func weightBytes(path: String) throws -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        let source = isDirectory.boolValue
            ? try DiffusersFolder.openWeights(in: path, stem: "diffusion_pytorch_model", legacyStem: "diffusion_pytorch_model",
                                              variant: nil).source
            : try WeightFiles.open(path)
        return StableDiffusionFootprint.elementCount(source) * MemoryLayout<Float>.size
    }
}
