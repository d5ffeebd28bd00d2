import Foundation
import Weights

/// Opens one weights file by its extension, turning format errors into `CheckpointError`s.
enum WeightFiles {
    static func open(_ path: String) throws -> TensorSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        guard !isDirectory.boolValue else { throw CheckpointError.unsupportedFile(path: path) }
        do {
            switch (path as NSString).pathExtension.lowercased() {
            case "safetensors": return try SafeTensorsFile(path: path)
            case "ckpt", "pt", "pth", "bin": return try TorchCheckpoint(path: path)
            default: throw CheckpointError.unsupportedFile(path: path)
            }
        } catch let error as CheckpointError {
            throw error
        } catch {
            throw CheckpointError.unreadable(path: path, reason: String(describing: error))
        }
    }
}
