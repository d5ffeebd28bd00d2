import TensorKernels

// Activations, each computed with PyTorch's formula in float32. The loops live in the C target
// TensorKernels, compiled per instruction set (see its header for why).

/// 1 / (1 + exp(-x))
public func sigmoid(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in tk_sigmoid(input, output, n) }
}

/// x * sigmoid(x)
public func silu(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in tk_silu(input, output, n) }
}

/// x * sigmoid(1.702 x), CLIP's activation.
public func quickGelu(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in tk_quick_gelu(input, output, n) }
}

/// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).
public func gelu(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in tk_gelu(input, output, n) }
}

/// GELU with the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
public func geluTanh(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in tk_gelu_tanh(input, output, n) }
}

/// GEGLU as diffusers: the last dimension 2n splits into (a, b) and the result is a * gelu(b).
public func geglu(_ x: Tensor) -> Tensor {
    precondition(x.rank >= 1 && x.shape[x.rank - 1] % 2 == 0,
                 "geglu: last dimension of \(x.shape) must be even")
    let width = x.shape[x.rank - 1]
    let half = width / 2
    let rows = x.shape.dropLast().reduce(1, *)
    var outShape = x.shape
    outShape[outShape.count - 1] = half
    let result = Tensor(uninitializedShape: outShape)
    let output = result.storage.pointer
    let input = UnsafePointer(x.storage.pointer)
    Parallel.forEachSlice(count: rows, grain: max(1, Elementwise.grain / max(1, half))) { range in
        for row in range {
            let a = input + row * width
            tk_gelu_gate(a, a + half, output + row * half, half)
        }
    }
    withExtendedLifetime(x) {}
    return result
}
