import TensorKernels

/// Softmax over the last dimension.
public func softmax(_ x: Tensor) -> Tensor {
    precondition(x.rank >= 1, "softmax: rank-0 tensor")
    let width = x.shape[x.rank - 1]
    let rows = x.shape.dropLast().reduce(1, *)
    let result = Tensor(uninitializedShape: x.shape)
    let output = result.storage.pointer
    let input = UnsafePointer(x.storage.pointer)
    Parallel.forEachSlice(count: rows, grain: max(1, Elementwise.grain / max(1, width))) { range in
        for row in range {
            tk_softmax_row(input + row * width, nil, output + row * width, width)
        }
    }
    withExtendedLifetime(x) {}
    return result
}
