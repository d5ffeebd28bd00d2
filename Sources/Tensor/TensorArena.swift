#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for many tensors that are written right after they are allocated and then live and die together —
/// a LoRA set's patched weight copies (3.4 GB for a LoCon over an SD 1.5 UNet): anonymous chunks (256 MiB) that
/// tensors are cut from one after another (64-byte aligned). The mappings go when the arena and every tensor cut
/// from it are gone (each tensor's storage holds the arena); a chunk's untouched tail costs address space only.
///
/// Inside `recycling(_:)`, chunks of arenas freed there are kept and handed to arenas made there instead of
/// fresh memory: replacing one LoRA set by another fills memory that is already faulted in. What is left over
/// is unmapped when the outermost `recycling` returns, so nothing is kept beyond it. Fresh memory is what a
/// first merge pays most for: on the VMs this is measured on, the host reclaims freed guest memory, and a first
/// touch of 3.4 GB took 2–4 s. Transparent huge pages (`MADV_HUGEPAGE` on 2 MiB-aligned chunks, tried here) made
/// that 3× slower there, since the guest's free 2 MiB blocks are just the ones its host has reclaimed.
///
/// Once written, `readOnly(_:)` gives a tensor's read-only view, which caches keyed on weight identity accept
/// (`TransformedWeightCache` keeps the Winograd transforms of read-only weights for the rest of a job, bounded
/// per `network`). One thread at a time allocates.
public final class TensorArena: @unchecked Sendable {
    private struct Mapping {
        let base: UnsafeMutableRawPointer
        var bytes: Int
    }

    private let chunkBytes: Int
    /// The network the tensors belong to, for caches bounded per network: the base weights' owner (the mapped
    /// file), so a patched network and its base share one bound; nil for weights held in memory.
    public let network: AnyObject?
    private var mappings: [Mapping] = []
    /// Offset of the next free byte in the last mapping.
    private var used = 0

    /// `chunkBytes`: the size of each mapping (a tensor larger than that gets a mapping of its own size).
    public init(chunkBytes: Int = 256 << 20, network: AnyObject? = nil) {
        self.chunkBytes = Self.roundedUp(max(chunkBytes, Self.pageBytes), to: Self.pageBytes)
        self.network = network
    }

    /// Bytes mapped now (tensors, alignment padding and the current chunk's untouched tail).
    public var mappedBytes: Int { mappings.reduce(0) { $0 + $1.bytes } }

    /// A float32 tensor the caller fully writes before reading, in this arena's memory; an ordinary tensor
    /// when no memory can be mapped (the system's allocator then reports the shortage as it always does).
    /// A 16-bit `elementType` tensor is filled through `TensorStorage.storeNarrowed`.
    public func tensor(uninitializedShape shape: [Int], elementType: TensorElementType = .float32) -> Tensor {
        let count = Tensor.elementCount(of: shape)
        let bytes = Self.roundedUp(max(count * elementType.byteWidth, 1), to: TensorStorage.alignment)
        guard let raw = allocate(bytes) else {
            return Tensor(shape: shape, storage: TensorStorage(uninitializedCount: count, elementType: elementType))
        }
        if elementType == .float32 { raw.bindMemory(to: Float.self, capacity: max(count, 1)) }
        return Tensor(shape: shape, storage: TensorStorage(borrowing: raw, count: count, elementType: elementType, owner: self,
                                                           writable: true))
    }

    /// `tensor` (cut from this arena and written) as a read-only view of the same memory; any other tensor as it is.
    /// Writing the view later copies it first, as for any read-only weight.
    public func readOnly(_ tensor: Tensor) -> Tensor {
        guard tensor.storage.owner === self, tensor.storage.isWritable else { return tensor }
        return Tensor(shape: tensor.shape, storage: TensorStorage(borrowing: tensor.storage.address, count: tensor.count,
                                                                  elementType: tensor.elementType, owner: self, writable: false))
    }

    private func allocate(_ bytes: Int) -> UnsafeMutableRawPointer? {
        if let last = mappings.last, last.bytes - used >= bytes {
            defer { used += bytes }
            return last.base + used
        }
        let size = max(chunkBytes, Self.roundedUp(bytes, to: Self.pageBytes))
        guard let base = Recycler.take(bytes: size) ?? Self.map(size) else { return nil }
        mappings.append(Mapping(base: base, bytes: size))
        used = bytes
        return base
    }

    /// Runs `body` with freed chunks kept for the arenas it makes (see the type's comment); nests.
    public static func recycling<R>(_ body: () throws -> R) rethrows -> R {
        Recycler.open()
        defer { Recycler.close() }
        return try body()
    }

    /// Bytes of freed chunks kept for reuse now (0 outside `recycling`).
    public static var recycledBytes: Int { Recycler.keptBytes }

    /// Freed chunks while a `recycling` scope is open: mapped, advised and already faulted in.
    private enum Recycler {
        nonisolated(unsafe) static var scopes = 0
        nonisolated(unsafe) static var kept: [(base: UnsafeMutableRawPointer, bytes: Int)] = []
        static let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
            let pointer = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
            pthread_mutex_init(pointer, nil)
            return pointer
        }()

        static func locked<R>(_ body: () -> R) -> R {
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return body()
        }

        static var keptBytes: Int { locked { kept.reduce(0) { $0 + $1.bytes } } }

        static func open() { locked { scopes += 1 } }

        static func close() {
            let unmapped = locked { () -> [(base: UnsafeMutableRawPointer, bytes: Int)] in
                scopes -= 1
                guard scopes == 0 else { return [] }
                defer { kept = [] }
                return kept
            }
            for chunk in unmapped { munmap(chunk.base, chunk.bytes) }
        }

        /// Keeps `mapping` when a scope is open; false when the caller must unmap it.
        static func give(_ base: UnsafeMutableRawPointer, bytes: Int) -> Bool {
            locked {
                guard scopes > 0 else { return false }
                kept.append((base, bytes))
                return true
            }
        }

        static func take(bytes: Int) -> UnsafeMutableRawPointer? {
            locked {
                guard let index = kept.lastIndex(where: { $0.bytes == bytes }) else { return nil }
                return kept.remove(at: index).base
            }
        }
    }

    /// Faults in the pages under `count` floats at `pointer` with one call (Linux's `MADV_POPULATE_WRITE`) before
    /// they are written: filling fresh memory that way took ~15–25 % less than a page fault per 4 KiB here (each
    /// of the threads filling a tensor calls it for its own slice). Harmless on pages already there; where the
    /// kernel does not know the advice (before Linux 5.14, other systems) the writes fault pages in as usual.
    public static func populateForWriting(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        populateForWriting(UnsafeMutableRawPointer(pointer), bytes: count * MemoryLayout<Float>.stride)
    }

    /// The same for `bytes` bytes at `address` (16-bit tensors).
    public static func populateForWriting(_ address: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: address) / page * page
        let end = roundedUp(Int(bitPattern: address + bytes), to: page)
        guard end > start, let base = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(base, end - start, 23)  // MADV_POPULATE_WRITE (not in every Glibc module map)
        #endif
    }

    /// Mapping granularity (the bytes of a small page on every system this runs on, or a multiple of them).
    private static let pageBytes = 64 << 10

    /// `bytes` (a multiple of `pageBytes`) of anonymous memory.
    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer? {
        guard let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
            return nil
        }
        return raw
    }

    private static func roundedUp(_ value: Int, to multiple: Int) -> Int {
        (value + multiple - 1) / multiple * multiple
    }

    deinit {
        for mapping in mappings where !Recycler.give(mapping.base, bytes: mapping.bytes) { munmap(mapping.base, mapping.bytes) }
    }
}
