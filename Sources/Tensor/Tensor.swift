// The Tensor module: float32 tensors (weights optionally resident in 16 bits) and the ops Stable Diffusion needs, on OpenBLAS.
//
// - Layout is PyTorch's (row-major, contiguous, NCHW); ops are free functions returning new tensors
//   (linear, conv2d, groupNorm, layerNorm, activations, softmax, attention, upsample, concat/split,
//   timestepEmbedding) and are checked against PyTorch in Tests/TensorTests.
// - Threads: one pool (`Parallel`, sized by `ComputeConfig.setThreads`) owns the cores. OpenBLAS is
//   pinned to one thread and `Gemm` splits products over the pool, so nothing oversubscribes.
// - Hot paths are GEMM-shaped: 1x1 convs and linears directly, other convs via bounded im2col chunks,
//   attention per (batch, head, query chunk) with bounded score memory. Activation and norm loops live
//   in the C target TensorKernels, compiled per instruction set.
// - `OpenBLASRuntime.ensureFastKernel` restarts the process with the best OpenBLAS kernel the CPU can
//   run when the library's own detection picked a slower one; `TensorBufferCache` recycles large
//   buffers so big activations are not page-faulted afresh at every step.

/// A dense float32 tensor in PyTorch's layout: row-major and contiguous (NCHW for images and latents).
///
/// A value type: copies share storage until one of them is written (copy-on-write), so passing
/// tensors around is cheap and ops always return new tensors.
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    public private(set) var storage: TensorStorage

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    /// float32, or a 16-bit type for weights kept resident at half size (see `WeightResidency`).
    public var elementType: TensorElementType { storage.elementType }
    /// Bytes this tensor's elements occupy.
    public var byteCount: Int { storage.byteCount }

    public init(shape: [Int], repeating value: Float = 0) {
        let count = Tensor.elementCount(of: shape)
        self.shape = shape
        self.storage = TensorStorage(count: count, repeating: value)
    }

    public init(shape: [Int], values: [Float]) {
        let count = Tensor.elementCount(of: shape)
        precondition(values.count == count,
                     "Tensor(shape: \(shape), values:): \(values.count) values for \(count) elements")
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { storage.pointer.update(from: base, count: count) }
        }
    }

    /// Wraps `storage` without copying (e.g. a memory-mapped checkpoint tensor).
    public init(shape: [Int], storage: TensorStorage) {
        let count = Tensor.elementCount(of: shape)
        precondition(storage.count == count,
                     "Tensor(shape: \(shape), storage:): storage holds \(storage.count) elements, shape needs \(count)")
        self.shape = shape
        self.storage = storage
    }

    /// A tensor whose contents the caller fully overwrites before reading (no zero fill).
    public init(uninitializedShape shape: [Int]) {
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: Tensor.elementCount(of: shape))
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

    static func elementCount(of shape: [Int]) -> Int {
        var count = 1
        for dimension in shape {
            precondition(dimension >= 0, "Tensor: negative dimension in shape \(shape)")
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            precondition(!overflow, "Tensor: element count of shape \(shape) overflows Int")
            count = product
        }
        return count
    }

    /// Reads the values as float32 (16-bit storage is widened into a temporary copy for the call).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        let readable = storage.widenedToFloat32()
        return try withExtendedLifetime(readable) {
            try body(UnsafeBufferPointer(start: readable.pointer, count: readable.count))
        }
    }

    /// The same values in float32 storage (this tensor itself when it already is float32).
    public func widenedToFloat32() -> Tensor {
        elementType == .float32 ? self : Tensor(shape: shape, storage: storage.widenedToFloat32())
    }

    /// Gives mutable access, copying the storage first if it is shared or borrowed read-only; 16-bit
    /// storage becomes a float32 copy, so a written weight (a merged LoRA) is float32 from then on.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        if storage.elementType != .float32 {
            storage = storage.widenedToFloat32()
        } else if !isKnownUniquelyReferenced(&storage) || !storage.isWritable {
            storage = storage.copy()
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
    }

    /// The same elements under a new shape; one dimension may be -1 (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        let inferred = newShape.indices.filter { newShape[$0] == -1 }
        precondition(inferred.count <= 1, "reshaped: more than one -1 in \(newShape) (from \(shape))")
        if let axis = inferred.first {
            let known = newShape.enumerated().reduce(1) { $1.offset == axis ? $0 : $0 * $1.element }
            precondition(known > 0 && count % known == 0,
                         "reshaped: cannot infer -1 in \(newShape) from \(shape)")
            resolved[axis] = count / known
        }
        precondition(Tensor.elementCount(of: resolved) == count,
                     "reshaped: \(shape) (\(count) elements) cannot become \(newShape)")
        return Tensor(shape: resolved, storage: storage)
    }

    public var scalars: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// The `index`-th slice along dimension 0, copied (shape drops dimension 0).
    public subscript(batch index: Int) -> Tensor {
        precondition(rank >= 1, "subscript(batch:) on a rank-0 tensor")
        precondition(index >= 0 && index < shape[0], "subscript(batch: \(index)) out of range for shape \(shape)")
        let sliceShape = Array(shape.dropFirst())
        let sliceCount = Tensor.elementCount(of: sliceShape)
        let result = Tensor(uninitializedShape: sliceShape)
        let source = storage.widenedToFloat32()
        result.storage.pointer.update(from: source.pointer + index * sliceCount, count: sliceCount)
        return result
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(shape: \(shape))" }
}
