import TensorKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps recently freed large tensor buffers for reuse.
///
/// glibc serves allocations above 32 MB with fresh mmaps, so every large activation (a UNet
/// GEGLU output is 84 MB, a VAE decoder feature map 134-268 MB) would otherwise be page-faulted and
/// zeroed by the kernel again: ~0.5 ms per MB, ten times the cost of writing the data. A network
/// allocates the same sizes at every step, so exact-size reuse catches nearly all of them.
///
/// Bounded by `capacityBytes` (least recently freed buffers go first). Cached memory stays resident:
/// call `purge()` when a request ends so an idle daemon holds only its weights.
public enum TensorBufferCache {
    /// Buffers smaller than this come from malloc's own free lists; not worth caching.
    public static let minimumBytes = 1 << 20

    private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let pointer = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(pointer, nil)
        return pointer
    }()
    nonisolated(unsafe) private static var capacity = 512 << 20
    /// Oldest first.
    nonisolated(unsafe) private static var entries: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
    nonisolated(unsafe) private static var total = 0

    /// Upper bound on cached bytes (default 512 MiB). Lowering it frees the excess at once.
    public static var capacityBytes: Int {
        get { locked { capacity } }
        set {
            let evicted = locked { () -> [UnsafeMutableRawPointer] in
                capacity = max(0, newValue)
                return evictLocked(toFit: 0)
            }
            evicted.forEach { free($0) }
        }
    }

    /// Bytes currently held for reuse.
    public static var cachedBytes: Int { locked { total } }

    /// Frees every cached buffer, kernel workspace and kept transformed weight, and hands freed heap memory back to the system
    /// (glibc keeps it otherwise: ~0.3 GB of an idle daemon's resident size after a 512² job).
    public static func purge() {
        // Kept transformed weights first: their storage would otherwise land in this cache as it is dropped.
        TransformedWeightCache.shared.purge()
        let all = locked { () -> [UnsafeMutableRawPointer] in
            let pointers = entries.map(\.pointer)
            entries.removeAll()
            total = 0
            return pointers
        }
        all.forEach { free($0) }
        ReusableWorkspace.all.forEach { $0.release() }
        tk_release_free_heap()
    }

    /// A cached buffer of exactly `bytes`, most recently freed first.
    static func take(bytes: Int) -> UnsafeMutableRawPointer? {
        if bytes < minimumBytes { return nil }
        return locked {
            guard let index = entries.lastIndex(where: { $0.bytes == bytes }) else { return nil }
            total -= bytes
            return entries.remove(at: index).pointer
        }
    }

    /// Offers a buffer for reuse; returns false when the caller must free it itself.
    static func give(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        if bytes < minimumBytes { return false }
        var evicted: [UnsafeMutableRawPointer] = []
        let kept = locked { () -> Bool in
            guard bytes <= capacity else { return false }
            evicted = evictLocked(toFit: bytes)
            entries.append((bytes, pointer))
            total += bytes
            return true
        }
        evicted.forEach { free($0) }
        return kept
    }

    private static func evictLocked(toFit incoming: Int) -> [UnsafeMutableRawPointer] {
        var evicted: [UnsafeMutableRawPointer] = []
        while total + incoming > capacity, !entries.isEmpty {
            let oldest = entries.removeFirst()
            total -= oldest.bytes
            evicted.append(oldest.pointer)
        }
        return evicted
    }

    private static func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return body()
    }
}
