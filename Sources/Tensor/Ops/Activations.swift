#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Activations, each computed as PyTorch does (same formula, float32).

/// 1 / (1 + exp(-x))
public func sigmoid(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in
        VectorMath.apply(input, output, n) { v in 1 / (1 + VectorMath.exp(-v)) }
    }
}

/// x * sigmoid(x)
public func silu(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in
        VectorMath.apply(input, output, n) { v in v / (1 + VectorMath.exp(-v)) }
    }
}

/// x * sigmoid(1.702 x), CLIP's activation.
public func quickGelu(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in
        VectorMath.apply(input, output, n) { v in v / (1 + VectorMath.exp(-1.702 * v)) }
    }
}

/// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).
public func gelu(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in
        for i in 0..<n { output[i] = Activation.gelu(input[i]) }
    }
}

/// GELU with the tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
public func geluTanh(_ x: Tensor) -> Tensor {
    Elementwise.map(x) { input, output, n in
        for i in 0..<n {
            let v = input[i]
            output[i] = 0.5 * v * (1 + tanhf(0.797_884_560_802_865_4 * (v + 0.044_715 * v * v * v)))
        }
    }
}

/// GEGLU as diffusers: the last dimension 2n splits into (a, b) and the result is a * gelu(b).
public func geglu(_ x: Tensor) -> Tensor {
    precondition(x.rank >= 1 && x.shape[x.rank - 1] % 2 == 0,
                 "geglu: last dimension of \(x.shape) must be even")
    let width = x.shape[x.rank - 1]
    let half = width / 2
    let rows = width == 0 ? 0 : x.count / width
    var outShape = x.shape
    outShape[outShape.count - 1] = half
    let result = Tensor(uninitializedShape: outShape)
    let output = result.storage.pointer
    let input = UnsafePointer(x.storage.pointer)
    Parallel.forEachSlice(count: rows, grain: max(1, Elementwise.grain / max(1, half))) { range in
        for row in range {
            let a = input + row * width
            let b = a + half
            let out = output + row * half
            for i in 0..<half { out[i] = a[i] * Activation.gelu(b[i]) }
        }
    }
    withExtendedLifetime(x) {}
    return result
}

enum Activation {
    @inline(__always)
    static func gelu(_ v: Float) -> Float {
        0.5 * v * (1 + erff(v * 0.707_106_781_186_547_5))
    }
}
