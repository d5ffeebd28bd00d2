#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorKernels

/// A contiguous buffer of `count` elements of `elementType`: either owned (64-byte aligned, freed on
/// deinit) or borrowed from memory someone else manages (e.g. an mmap of a checkpoint), in which case
/// `owner` is retained so the memory stays valid as long as any tensor refers to it.
///
/// Float32 storage is what every op computes on (`pointer`). 16-bit storage holds resident weights only:
/// GEMMs widen it a panel at a time, anything else that reads it gets a float32 copy
/// (`Tensor.withUnsafeBufferPointer`), and writers replace it with a float32 copy first.
public final class TensorStorage: @unchecked Sendable {
    /// Alignment of owned buffers: one cache line, and what AVX-512 loads prefer.
    public static let alignment = 64

    public let count: Int
    public let elementType: TensorElementType
    /// The first element, whatever its type.
    public let address: UnsafeMutableRawPointer
    private let ownsMemory: Bool
    /// Keeps borrowed memory alive (for instance the object that unmaps the file in its deinit).
    public let owner: AnyObject?
    /// Borrowed memory may be read-only (a PROT_READ mapping); writers must copy first. Narrowed weight
    /// storage is read-only too: its contents never change, so caches may key on its identity.
    public let isWritable: Bool

    /// The float32 elements. Only float32 storage has them: reaching for them in 16-bit storage is a
    /// programming error (the op should have widened the weights), so it stops here rather than read
    /// half-words as floats.
    public var pointer: UnsafeMutablePointer<Float> {
        precondition(elementType == .float32, "TensorStorage.pointer on \(elementType) storage: widen it first")
        return address.assumingMemoryBound(to: Float.self)
    }

    /// Bytes the elements occupy (what a resident weight costs).
    public var byteCount: Int { count * elementType.byteWidth }

    /// An owned, uninitialised buffer of `count` elements.
    public convenience init(uninitializedCount count: Int, elementType: TensorElementType = .float32) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.init(ownedCount: count, elementType: elementType, writable: true)
    }

    private init(ownedCount count: Int, elementType: TensorElementType, writable: Bool) {
        let bytes = TensorStorage.allocationBytes(count, elementType)
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
        self.elementType = elementType
        self.address = raw
        if elementType == .float32 { raw.bindMemory(to: Float.self, capacity: max(count, 1)) }
        self.ownsMemory = true
        self.owner = nil
        self.isWritable = writable
    }

    /// An owned buffer filled with `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.update(repeating: value, count: count)
    }

    /// Wraps memory owned by `owner` without copying. The caller guarantees that `pointer` is valid
    /// for `count` floats while `owner` is alive, and that it is suitably aligned for Float.
    public convenience init(borrowing pointer: UnsafePointer<Float>, count: Int, owner: AnyObject?, writable: Bool = false) {
        self.init(borrowing: UnsafeMutableRawPointer(mutating: pointer), count: count, elementType: .float32, owner: owner,
                  writable: writable)
    }

    /// Wraps `count` elements of `elementType` at `address`, owned by `owner` (as above, for any element type).
    public init(borrowing address: UnsafeMutableRawPointer, count: Int, elementType: TensorElementType, owner: AnyObject?,
                writable: Bool = false) {
        precondition(count >= 0, "TensorStorage: negative element count \(count)")
        self.count = count
        self.elementType = elementType
        self.address = address
        self.ownsMemory = false
        self.owner = owner
        self.isWritable = writable
    }

    /// An owned copy of this storage, in the same element type.
    public func copy() -> TensorStorage {
        let new = TensorStorage(uninitializedCount: count, elementType: elementType)
        new.address.copyMemory(from: address, byteCount: byteCount)
        return new
    }

    /// Float32 storage with the same values: this storage itself when it is float32, else a new owned copy
    /// (exact: every binary16 and bfloat16 value is a float32).
    public func widenedToFloat32() -> TensorStorage {
        guard let format = elementType.kernelFormat else { return self }
        let wide = TensorStorage(uninitializedCount: count)
        let destination = wide.pointer
        let source = UnsafeRawPointer(address)
        Parallel.forEachSlice(count: count, grain: 1 << 16) { range in
            tk_widen_block(source + range.lowerBound * 2, format, 1, range.count, range.count,
                           destination + range.lowerBound, range.count)
        }
        return wide
    }

    /// Elements `range` as float32 into `destination`: widened from 16-bit storage (exact), copied from float32.
    /// On the calling thread, so a caller can fill its own buffer a slice per thread without a whole float32
    /// copy of 16-bit weights first (a LoRA merge of an fp16 checkpoint).
    public func copyFloat32(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "copyFloat32: \(range) outside 0..<\(count)")
        if range.isEmpty { return }
        if let format = elementType.kernelFormat {
            tk_widen_block(UnsafeRawPointer(address) + range.lowerBound * elementType.byteWidth, format, 1, range.count,
                           range.count, destination, range.count)
        } else {
            destination.update(from: pointer + range.lowerBound, count: range.count)
        }
    }

    /// Stores `range.count` floats from `source` into elements `range` of this 16-bit storage, rounded to nearest
    /// (the lossy narrowing of `narrowed(to:exactOnly: false)`). On the calling thread, so a caller can fill
    /// disjoint slices from several threads, each from values still in its cache (a LoRA merge into fp16).
    public func storeNarrowed(_ range: Range<Int>, from source: UnsafePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "storeNarrowed: \(range) outside 0..<\(count)")
        precondition(isWritable, "storeNarrowed into read-only storage")
        if range.isEmpty { return }
        let destination = (address + range.lowerBound * 2).assumingMemoryBound(to: UInt16.self)
        switch elementType {
        case .float16: tk_f16_narrow(source, range.count, destination)
        case .bfloat16: tk_bf16_narrow(source, range.count, destination)
        case .float32: preconditionFailure("storeNarrowed into float32 storage: copy instead")
        }
    }

    /// This float32 storage in `type` (read-only, owned). With `exactOnly`, nil unless every value converts
    /// and back bit for bit, so a float32 path reading it computes exactly what it computed before.
    public func narrowed(to type: TensorElementType, exactOnly: Bool) -> TensorStorage? {
        guard elementType == .float32, type != .float32 else { return type == elementType ? self : nil }
        let narrow = TensorStorage(ownedCount: count, elementType: type, writable: false)
        let source = UnsafePointer(pointer)
        let destination = narrow.address.bindMemory(to: UInt16.self, capacity: max(count, 1))
        let inexact = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
        inexact.initialize(to: false)
        defer { inexact.deallocate() }
        Parallel.forEachSlice(count: count, grain: 1 << 16) { range in
            let from = source + range.lowerBound, to = destination + range.lowerBound
            switch (type, exactOnly) {
            case (.float16, true):
                if tk_f16_narrow_exact(from, range.count, to) != range.count { inexact.pointee = true }
            case (.bfloat16, true):
                if tk_bf16_narrow_exact(from, range.count, to) != range.count { inexact.pointee = true }
            case (.float16, false): tk_f16_narrow(from, range.count, to)
            case (.bfloat16, false): tk_bf16_narrow(from, range.count, to)
            case (.float32, _): break
            }
        }
        return inexact.pointee ? nil : narrow
    }

    /// Whole cache lines, at least one (posix_memalign rejects size 0 on some libcs).
    private static func allocationBytes(_ count: Int, _ type: TensorElementType) -> Int {
        let bytes = count * type.byteWidth
        return max(alignment, (bytes + alignment - 1) / alignment * alignment)
    }

    deinit {
        guard ownsMemory else { return }
        if !TensorBufferCache.give(address, bytes: TensorStorage.allocationBytes(count, elementType)) { free(address) }
    }
}
