import Foundation

/// Size and modification time of a model file or folder: a resident model whose file has a new stamp is
/// stale, and the next lookup loads the new file (requests already holding the old one finish with it).
struct FileStamp: Equatable, Sendable {
    let size: UInt64
    let modified: Date

    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let modified = attributes[.modificationDate] as? Date else { return nil }
        self.size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        self.modified = modified
    }
}
