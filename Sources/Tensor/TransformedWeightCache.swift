#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Winograd-transformed 3x3 weights kept from one call to the next while a job runs: a sampling loop
/// calls every UNet layer 20-50 times with the same weights, and remaking the transform each time was
/// ~5% of a 256² step. Only read-only weight storage (memory-mapped checkpoints) is kept, since its
/// contents cannot change under the cache; an entry holds its storage, so the identity is never reused.
///
/// Bounded: entries are added while they fit in `capacityBytes` and never evicted (a loop visits the
/// layers in the same order every step, so LRU eviction would only thrash). Layers with many tiles are
/// not kept at all: there the transform is cheap next to the GEMMs. `TensorBufferCache.purge()` (after
/// every job) empties it, so an idle daemon holds only its weights.
final class TransformedWeightCache: @unchecked Sendable {
    struct Key: Hashable {
        let storage: ObjectIdentifier
        let variant: WinogradConvolution.Variant
    }

    private struct Entry {
        let weights: TensorStorage
        let transformed: TensorStorage
    }

    static let shared = TransformedWeightCache()

    /// 768 MB: with a 512² SD 1.5 step's own peak (~0.55 GB over the weights) this stays well under the
    /// 1.5 GB the engine allows itself beyond the weights.
    nonisolated(unsafe) static var capacityBytes = 768 << 20

    /// Layers with more tiles than this over the batch are not worth keeping.
    static let maximumTiles = 256

    private var mutex = pthread_mutex_t()
    private var entries: [Key: Entry] = [:]
    private var used = 0

    private init() { pthread_mutex_init(&mutex, nil) }

    var cachedBytes: Int { locked { used } }

    /// The transformed weights of `weights` for `variant`: cached ones, or new ones made by `transform`
    /// into fresh storage and kept when they fit; nil when they should not be kept (the caller then
    /// transforms into its workspace).
    func transformed(of weights: TensorStorage, variant: WinogradConvolution.Variant, count: Int, tiles: Int,
                     transform: (UnsafeMutablePointer<Float>) -> Void) -> TensorStorage? {
        guard !weights.isWritable, tiles <= Self.maximumTiles else { return nil }
        let key = Key(storage: ObjectIdentifier(weights), variant: variant)
        let bytes = count * MemoryLayout<Float>.stride
        enum Lookup { case hit(TensorStorage), reserved, full }
        let lookup = locked { () -> Lookup in
            if let entry = entries[key] { return .hit(entry.transformed) }
            guard used + bytes <= Self.capacityBytes else { return .full }
            used += bytes  // reserved before transforming, so concurrent callers cannot overshoot
            return .reserved
        }
        switch lookup {
        case .hit(let storage):
            return storage
        case .full:
            return nil
        case .reserved:
            let storage = TensorStorage(uninitializedCount: count)
            transform(storage.pointer)
            locked {
                if entries[key] == nil {
                    entries[key] = Entry(weights: weights, transformed: storage)
                } else {
                    used -= bytes  // another caller kept the same layer first
                }
            }
            return storage
        }
    }

    func purge() {
        let dropped = locked { () -> [Key: Entry] in
            let all = entries
            entries.removeAll()
            used = 0
            return all
        }
        withExtendedLifetime(dropped) {}
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

/// For memory estimates outside this module: the most a job keeps of transformed weights.
public enum TransformedWeightBudget {
    public static var capacityBytes: Int { TransformedWeightCache.capacityBytes }
}
