extension Tensor {
    /// The tensor with its dimensions reordered (result dimension i is input dimension axes[i]),
    /// materialised contiguously.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes) == Set(0..<rank),
                     "permuted: \(axes) is not a permutation of the axes of \(shape)")
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        var inStrides = [Int](repeating: 1, count: rank)
        for axis in stride(from: rank - 2, through: 0, by: -1) { inStrides[axis] = inStrides[axis + 1] * shape[axis + 1] }
        let strides = axes.map { inStrides[$0] }
        let result = Tensor(uninitializedShape: outShape)
        if count == 0 { return result }
        let input = UnsafePointer(storage.pointer)
        let output = result.storage.pointer
        // The innermost output dimension is copied by a strided loop; the outer ones are enumerated.
        let innerCount = outShape[rank - 1]
        let innerStride = strides[rank - 1]
        let outerShape = Array(outShape.dropLast())
        let outerStrides = Array(strides.dropLast())
        let outerCount = count / max(1, innerCount)
        Parallel.forEachSlice(count: outerCount, grain: max(1, 16384 / max(1, innerCount))) { range in
            for outer in range {
                var remainder = outer
                var offset = 0
                for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
                    offset += (remainder % outerShape[axis]) * outerStrides[axis]
                    remainder /= outerShape[axis]
                }
                let source = input + offset
                let target = output + outer * innerCount
                for i in 0..<innerCount { target[i] = source[i * innerStride] }
            }
        }
        withExtendedLifetime(self) {}
        return result
    }
}
