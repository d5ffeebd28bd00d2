import Foundation
import Models

/// Keeps loaded upscalers resident between requests, keyed by file path and modification time (a replaced file
/// is reloaded). Small on purpose: the Engine-wide model cache can take this over by keying on the same path.
/// At most `capacity` networks stay loaded; the least recently used is dropped first.
public final class UpscalerCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (stamp: Date?, model: UpscalerModel, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    public let capacity: Int

    public init(capacity: Int = 2) { self.capacity = max(1, capacity) }

    public static let shared = UpscalerCache()

    /// The model at `path`, loading it on first use.
    public func model(at path: String) throws -> UpscalerModel {
        let stamp = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        lock.lock()
        clock += 1
        if let hit = entries[path], hit.stamp == stamp {
            entries[path]?.used = clock
            lock.unlock()
            return hit.model
        }
        lock.unlock()
        // Loading happens outside the lock (it takes seconds); two concurrent misses load twice, harmlessly.
        let model = try UpscalerModel.load(path: path)
        lock.lock()
        defer { lock.unlock() }
        clock += 1
        entries[path] = (stamp, model, clock)
        while entries.count > capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
            entries.removeValue(forKey: oldest)
        }
        return model
    }

    public var loadedPaths: [String] {
        lock.lock(); defer { lock.unlock() }
        return entries.keys.sorted()
    }
}
