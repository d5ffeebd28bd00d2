import Foundation

/// Opens a Stable Diffusion 1.x/2.x model as users have it on disk and builds its networks once.
///
/// - a diffusers folder (`model_index.json` + component folders), or
/// - a single original-layout file (`.safetensors`, `.ckpt`, `.pt`, `.pth`) whose architecture is
///   detected from tensor names and shapes.
///
/// Loading is strict: any missing, unexpected or mis-shaped tensor fails with its name.
public enum ModelFiles {
    public static func load(path: String, options: CheckpointOptions = CheckpointOptions()) throws
        -> StableDiffusionModels
    {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        if isDirectory.boolValue {
            guard DiffusersFolder.isFolder(path) else {
                throw CheckpointError.missingFile(path: (path as NSString).appendingPathComponent("model_index.json"))
            }
            return try DiffusersFolder.load(path, options: options)
        }
        return try SingleFileCheckpoint.load(path, options: options)
    }
}
