import Foundation
import Models

/// The textual-inversion embeddings of `<--models>/embeddings/` (see `AdapterFolder` for names). Files are read
/// when a prompt first uses them and kept, keyed by path, until their size or modification time changes; they
/// are a few kilobytes each, so they stay outside the model host's memory budget.
public final class EmbeddingLibrary: @unchecked Sendable {
    public let folder: AdapterFolder?
    private let lock = NSLock()
    private var cache: [String: (stamp: FileStamp?, embedding: TextualInversion)] = [:]

    /// `directory`: the embeddings folder itself (nil: no embeddings).
    public init(directory: String?) {
        folder = directory.map { AdapterFolder(path: $0, extensions: TextualInversionFile.extensions) }
    }

    public func entries() -> [AdapterFolder.Entry] { folder?.entries() ?? [] }

    public func names() -> [String] { entries().map(\.name) }

    public func embedding(named name: String) throws -> TextualInversion {
        guard let entry = folder?.entry(named: name) else {
            throw TextualInversionError.unreadable(name: name, reason: "no such file in the embeddings folder")
        }
        let stamp = FileStamp(path: entry.path)
        if let hit = lock.withLock({ cache[entry.path] }), hit.stamp == stamp { return hit.embedding }
        let loaded = try TextualInversionFile.load(path: entry.path, name: name)
        lock.withLock { cache[entry.path] = (stamp, loaded) }
        return loaded
    }
}
