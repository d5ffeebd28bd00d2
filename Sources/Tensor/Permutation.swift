extension Tensor {
    /// The tensor with its dimensions reordered (result dimension i is input dimension axes[i]),
    /// materialised contiguously.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.count == rank && Set(axes) == Set(0..<rank),
                     "permuted: \(axes) is not a permutation of the axes of \(shape)")
        if axes == Array(0..<rank) { return self }
        let outShape = axes.map { shape[$0] }
        if rank >= 2 && axes == Array(0..<(rank - 2)) + [rank - 1, rank - 2] {
            return transposedLastTwo(outShape)
        }
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

    /// [..., r, c] -> [..., c, r] (e.g. NCHW features to tokens) in 32x32 tiles, so both the reads
    /// and the writes stay within a few cache lines per row instead of striding a whole plane.
    private func transposedLastTwo(_ outShape: [Int]) -> Tensor {
        let rows = shape[rank - 2], columns = shape[rank - 1]
        let matrices = rows * columns == 0 ? 0 : count / (rows * columns)
        let result = Tensor(uninitializedShape: outShape)
        if count == 0 { return result }
        let tile = 32
        let tileRows = (rows + tile - 1) / tile
        let input = UnsafePointer(storage.pointer)
        let output = result.storage.pointer
        Parallel.forEach(0..<(matrices * tileRows)) { task in
            let matrix = task / tileRows
            let r0 = (task % tileRows) * tile
            let r1 = Swift.min(rows, r0 + tile)
            let source = input + matrix * rows * columns
            let target = output + matrix * rows * columns
            var c0 = 0
            while c0 < columns {
                let c1 = Swift.min(columns, c0 + tile)
                for c in c0..<c1 {
                    for r in r0..<r1 { target[c * rows + r] = source[r * columns + c] }
                }
                c0 = c1
            }
        }
        withExtendedLifetime(self) {}
        return result
    }
}
