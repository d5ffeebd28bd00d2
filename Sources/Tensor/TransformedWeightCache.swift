#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Winograd-transformed 3x3 weights kept from one call to the next while a job runs: a sampling loop
/// calls every UNet layer 20-50 times with the same weights, and remaking the transform each time was
/// ~5% of a 256² step. Only read-only weight storage (memory-mapped checkpoints, a LoRA's patched copies once merged) is kept, since its
/// contents cannot change under the cache; an entry holds its storage, so the identity is never reused.
///
/// Bounded per network: the entries of each weights file (the mapping that owns the storage) are added
/// while they fit in `capacityBytes` and never evicted (a loop visits the layers in the same order every
/// step, so LRU eviction would only thrash). One shared bound let a ControlNet, which runs first in each
/// step, take all of it and leave the UNet to remake every transform, so the pair cost more than the two
/// networks alone. Layers with many tiles are not kept at all: there the transform is cheap next to the
/// GEMMs. `TensorBufferCache.purge()` (after every job) empties it, so an idle daemon holds only its
/// weights; `dropKept()` empties it between the stages of a job that switch networks (the SDXL refiner).
final class TransformedWeightCache: @unchecked Sendable {
    struct Key: Hashable {
        let storage: ObjectIdentifier
        let variant: WinogradConvolution.Variant
    }

    /// The network a weight belongs to: the object that keeps its mapping alive; nil for weights the
    /// daemon narrowed into memory of its own (they share one bound).
    typealias Network = ObjectIdentifier?

    private struct Entry {
        let weights: TensorStorage
        let transformed: TensorStorage
    }

    static let shared = TransformedWeightCache()

    /// 768 MB per network: with a 512² SD 1.5 step's own peak (~0.55 GB over the weights) this stays well
    /// under the 1.5 GB the engine allows itself beyond the weights.
    nonisolated(unsafe) static var capacityBytes = 768 << 20

    /// Layers with more tiles than this over the batch are not worth keeping.
    static let maximumTiles = 256

    private var mutex = pthread_mutex_t()
    private var entries: [Key: Entry] = [:]
    private var used: [Network: Int] = [:]

    private init() { pthread_mutex_init(&mutex, nil) }

    var cachedBytes: Int { locked { used.values.reduce(0, +) } }

    /// The transformed weights of `weights` for `variant`: cached ones, or new ones made by `transform`
    /// into fresh storage and kept when they fit; nil when they should not be kept (the caller then
    /// transforms into its workspace).
    func transformed(of weights: TensorStorage, variant: WinogradConvolution.Variant, count: Int, tiles: Int,
                     transform: (UnsafeMutablePointer<Float>) -> Void) -> TensorStorage? {
        guard !weights.isWritable, tiles <= Self.maximumTiles else { return nil }
        let key = Key(storage: ObjectIdentifier(weights), variant: variant)
        // A patched copy (a LoRA's) counts with the network it was patched from.
        let owner = (weights.owner as? TensorArena).map { $0.network } ?? weights.owner
        let network: Network = owner.map { ObjectIdentifier($0) }
        let bytes = count * MemoryLayout<Float>.stride
        enum Lookup { case hit(TensorStorage), reserved, full }
        let lookup = locked { () -> Lookup in
            if let entry = entries[key] { return .hit(entry.transformed) }
            guard used[network, default: 0] + bytes <= Self.capacityBytes else { return .full }
            used[network, default: 0] += bytes  // reserved before transforming, so concurrent callers cannot overshoot
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
                    used[network, default: 0] -= bytes  // another caller kept the same layer first
                }
            }
            return storage
        }
    }

    func purge() {
        let dropped = locked { () -> [Key: Entry] in
            let all = entries
            entries.removeAll()
            used.removeAll()
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

/// For memory estimates and jobs outside this module.
public enum TransformedWeightBudget {
    /// The most a job keeps of one network's transformed weights (each UNet, ControlNet: each weights file).
    public static var capacityBytes: Int { TransformedWeightCache.capacityBytes }

    /// Drops every kept transform (a job switching to another network: the first one's are of no more use).
    public static func dropKept() { TransformedWeightCache.shared.purge() }
}
