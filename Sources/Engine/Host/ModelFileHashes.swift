import Foundation
import Weights

/// A1111's short hashes of adapter files (`ModelFileHash`), computed once per file version: a file is read whole
/// only the first time an image records it, and again only when its size or modification time changes.
public enum ModelFileHashes {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: (stamp: FileStamp?, hash: String)] = [:]

    /// The first 12 hex digits A1111 writes for `path` (`addnet`: a LoRA `.safetensors`, hashed after its header);
    /// nil when the file cannot be read (the infotext then leaves it out, as A1111 does with an empty hash).
    public static func short(path: String, addnet: Bool) -> String? {
        let stamp = FileStamp(path: path)
        let key = (addnet ? "addnet:" : "file:") + path
        if let hit = lock.withLock({ cache[key] }), hit.stamp == stamp { return hit.hash }
        guard let full = try? ModelFileHash.sha256(path: path, skippingSafeTensorsHeader: addnet) else { return nil }
        let hash = String(full.prefix(ModelFileHash.shortLength))
        lock.withLock { cache[key] = (stamp, hash) }
        return hash
    }

    /// A LoRA file's hash as A1111 computes it (addnet for `.safetensors`, the whole file otherwise).
    public static func lora(path: String) -> String? {
        short(path: path, addnet: (path as NSString).pathExtension.lowercased() == "safetensors")
    }
}
