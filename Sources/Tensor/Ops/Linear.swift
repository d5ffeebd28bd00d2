/// y = x W^T + b with x [..., in] and weight [out, in] (PyTorch's nn.Linear layout); the weight may be
/// resident in 16 bits (widened per panel by `Gemm`).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 2, "linear: weight \(weight.shape) must be [out, in]")
    let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == inFeatures,
                 "linear: input \(x.shape) does not end in \(inFeatures) features of weight \(weight.shape)")
    if let bias { precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape) vs weight \(weight.shape)") }
    let rows = x.shape.dropLast().reduce(1, *)
    var outShape = x.shape
    outShape[outShape.count - 1] = outFeatures
    let result = Tensor(uninitializedShape: outShape)
    let output = result.storage.pointer
    if let bias {
        Bias.fillRows(output, rows: rows, bias: UnsafePointer(bias.storage.pointer), width: outFeatures)
    }
    Gemm.multiply(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                  a: GemmOperand(x.storage), lda: max(1, inFeatures),
                  b: GemmOperand(weight.storage), ldb: max(1, inFeatures),
                  beta: bias == nil ? 0 : 1, c: output, ldc: max(1, outFeatures))
    withExtendedLifetime((x, weight, bias)) {}
    return result
}

/// Matrix product of the last two dimensions, batched over the leading ones: [..., m, k] x [k, n].
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank >= 2 && b.rank == 2 && a.shape[a.rank - 1] == b.shape[0],
                 "matmul: shapes \(a.shape) and \(b.shape) do not chain")
    let k = b.shape[0], n = b.shape[1]
    let rows = a.shape.dropLast().reduce(1, *)
    var outShape = a.shape
    outShape[outShape.count - 1] = n
    let result = Tensor(uninitializedShape: outShape)
    Gemm.multiply(transposeA: false, transposeB: false, m: rows, n: n, k: k,
                  a: GemmOperand(a.storage), lda: max(1, k), b: GemmOperand(b.storage), ldb: max(1, n),
                  c: result.storage.pointer, ldc: max(1, n))
    withExtendedLifetime((a, b)) {}
    return result
}

enum Bias {
    /// Writes `bias` into each of `rows` rows (the GEMM then accumulates with beta = 1).
    static func fillRows(_ output: UnsafeMutablePointer<Float>, rows: Int,
                         bias: UnsafePointer<Float>, width: Int) {
        Parallel.forEachSlice(count: rows, grain: max(1, Elementwise.grain / max(1, width))) { range in
            for row in range {
                (output + row * width).update(from: bias, count: width)
            }
        }
    }

    /// Fills plane c of each [planeSize] block with bias[c], for `planes` consecutive channel planes.
    static func fillPlanes(_ output: UnsafeMutablePointer<Float>, channels: Int, planeSize: Int,
                           bias: UnsafePointer<Float>) {
        for channel in 0..<channels {
            (output + channel * planeSize).update(repeating: bias[channel], count: planeSize)
        }
    }
}
