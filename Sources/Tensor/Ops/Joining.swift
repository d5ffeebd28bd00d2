/// Concatenates tensors along `axis`; all other dimensions must agree.
public func concat(_ xs: [Tensor], axis: Int) -> Tensor {
    precondition(!xs.isEmpty, "concat: no tensors")
    let first = xs[0]
    let rank = first.rank
    let axis = axis < 0 ? axis + rank : axis
    precondition(axis >= 0 && axis < rank, "concat: axis out of range for \(first.shape)")
    var outShape = first.shape
    outShape[axis] = 0
    for x in xs {
        var expected = first.shape
        expected[axis] = x.rank == rank ? x.shape[axis] : -1
        precondition(x.shape == expected, "concat: \(x.shape) does not match \(first.shape) outside axis \(axis)")
        outShape[axis] += x.shape[axis]
    }
    let outer = first.shape[..<axis].reduce(1, *)
    let inner = first.shape[(axis + 1)...].reduce(1, *)
    let outRow = outShape[axis] * inner
    let result = Tensor(uninitializedShape: outShape)
    let output = result.storage.pointer
    var offset = 0
    for x in xs {
        let row = x.shape[axis] * inner
        let input = UnsafePointer(x.storage.pointer)
        let target = output + offset
        Parallel.forEachSlice(count: outer, grain: max(1, Elementwise.grain / max(1, row))) { range in
            for o in range { (target + o * outRow).update(from: input + o * row, count: row) }
        }
        offset += row
        withExtendedLifetime(x) {}
    }
    return result
}

/// Splits x along `axis` into pieces of the given sizes (which must sum to the axis length).
public func split(_ x: Tensor, axis: Int, sizes: [Int]) -> [Tensor] {
    let rank = x.rank
    let axis = axis < 0 ? axis + rank : axis
    precondition(axis >= 0 && axis < rank, "split: axis out of range for \(x.shape)")
    precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == x.shape[axis],
                 "split: sizes \(sizes) do not add up to dimension \(axis) of \(x.shape)")
    let outer = x.shape[..<axis].reduce(1, *)
    let inner = x.shape[(axis + 1)...].reduce(1, *)
    let inRow = x.shape[axis] * inner
    let input = UnsafePointer(x.storage.pointer)
    var offset = 0
    var pieces: [Tensor] = []
    for size in sizes {
        var shape = x.shape
        shape[axis] = size
        let piece = Tensor(uninitializedShape: shape)
        let row = size * inner
        let target = piece.storage.pointer
        let source = input + offset
        Parallel.forEachSlice(count: outer, grain: max(1, Elementwise.grain / max(1, row))) { range in
            for o in range { (target + o * row).update(from: source + o * inRow, count: row) }
        }
        offset += row
        pieces.append(piece)
    }
    withExtendedLifetime(x) {}
    return pieces
}
