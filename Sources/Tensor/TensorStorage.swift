#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous float32 buffer: either owned (64-byte aligned, freed on deinit) or borrowed from
/// memory someone else manages (e.g. an mmap of a checkpoint), in which case `owner` is retained so
/// the memory stays valid as long as any tensor refers to it.
public final class TensorStorage: @unchecked Sendable {
    /// Alignment of owned buffers: one cache line, and what AVX-512 loads prefer.
    public static let alignment = 64

    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    private let ownsMemory: Bool
    /// Keeps borrowed memory alive (for instance the object that unmaps the file in its deinit).
    public let owner: AnyObject?
    /// Borrowed memory may be read-only (a PROT_READ mapping); writers must copy first.
    public let isWritable: Bool

    /// An owned, uninitialised buffer of `count` floats.
    public init(uninitializedCount count: Int) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        let bytes = TensorStorage.allocationBytes(count)
        let raw: UnsafeMutableRawPointer
        if let cached = TensorBufferCache.take(bytes: bytes) {
            raw = cached
        } else {
            var fresh: UnsafeMutableRawPointer?
            let status = posix_memalign(&fresh, TensorStorage.alignment, bytes)
            guard status == 0, let fresh else {
                fatalError("TensorStorage: cannot allocate \(bytes) bytes (posix_memalign status \(status))")
            }
            raw = fresh
        }
        self.count = count
        self.pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        self.ownsMemory = true
        self.owner = nil
        self.isWritable = true
    }

    /// An owned buffer filled with `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.update(repeating: value, count: count)
    }

    /// Wraps memory owned by `owner` without copying. The caller guarantees that `pointer` is valid
    /// for `count` floats while `owner` is alive, and that it is suitably aligned for Float.
    public init(borrowing pointer: UnsafePointer<Float>, count: Int, owner: AnyObject?, writable: Bool = false) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        self.pointer = UnsafeMutablePointer(mutating: pointer)
        self.ownsMemory = false
        self.owner = owner
        self.isWritable = writable
    }

    /// An owned copy of this storage.
    public func copy() -> TensorStorage {
        let new = TensorStorage(uninitializedCount: count)
        new.pointer.update(from: pointer, count: count)
        return new
    }

    /// Whole cache lines, at least one (posix_memalign rejects size 0 on some libcs).
    private static func allocationBytes(_ count: Int) -> Int {
        let bytes = count * MemoryLayout<Float>.stride
        return max(alignment, (bytes + alignment - 1) / alignment * alignment)
    }

    deinit {
        guard ownsMemory else { return }
        let raw = UnsafeMutableRawPointer(pointer)
        if !TensorBufferCache.give(raw, bytes: TensorStorage.allocationBytes(count)) { free(raw) }
    }
}
