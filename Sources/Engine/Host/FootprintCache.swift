import Foundation

/// Footprints read from the headers of non-resident model files, kept per file version (`FileStamp`), so
/// admission control reads a file's headers (and configs) once, not on every request, and again only after
/// the file changed. A resident model is measured from memory instead and never comes here.
public enum FootprintCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var entries: [String: (stamp: FileStamp, value: any Sendable)] = [:]
    nonisolated(unsafe) private static var reads = 0

    /// `read(path)`'s result for `kind` (what is read: "sd", "upscaler", "adapter", "lora") from the cache while
    /// the file's stamp is unchanged. A file that cannot be stamped is read each time (and its error thrown).
    static func value<T: Sendable>(kind: String, path: String, read: (String) throws -> T) throws -> T {
        let key = kind + ":" + path
        guard let stamp = FileStamp(path: path) else { return try read(path) }
        if let hit = lock.withLock({ entries[key] }), hit.stamp == stamp, let value = hit.value as? T { return value }
        let value = try read(path)
        lock.withLock {
            reads += 1
            entries[key] = (stamp, value)
        }
        return value
    }

    /// Header reads made so far (a test checks that a repeated estimate reads none).
    public static var readCount: Int { lock.withLock { reads } }
}
