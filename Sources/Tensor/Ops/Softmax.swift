/// Softmax over the last dimension.
public func softmax(_ x: Tensor) -> Tensor {
    precondition(x.rank >= 1, "softmax: rank-0 tensor")
    let width = x.shape[x.rank - 1]
    let rows = width == 0 ? 0 : x.count / width
    let result = Tensor(uninitializedShape: x.shape)
    let output = result.storage.pointer
    let input = UnsafePointer(x.storage.pointer)
    Parallel.forEachSlice(count: rows, grain: max(1, Elementwise.grain / max(1, width))) { range in
        for row in range {
            Softmax.row(input + row * width, output + row * width, width)
        }
    }
    withExtendedLifetime(x) {}
    return result
}

enum Softmax {
    /// out = exp(x - max) / sum; `input` may equal `output`.
    @inline(__always)
    static func row(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ width: Int) {
        if width == 0 { return }
        let maximum = Reductions.max(input, width)
        // A row of -inf (fully masked) would give NaN like PyTorch; keep PyTorch's behaviour.
        VectorMath.apply(input, output, width) { v in VectorMath.exp(v - maximum) }
        let total = Reductions.sum(UnsafePointer(output), width)
        let inverse = Float(1 / total)
        for i in 0..<width { output[i] *= inverse }
    }
}
