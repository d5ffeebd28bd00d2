import TensorKernels

/// Scaled dot-product attention, softmax(Q K^T / sqrt(D) + mask) V, per head.
///
/// query [B, Lq, heads*D], key/value [B, Lk, heads*D] -> [B, Lq, heads*D]; `mask` is an additive
/// [Lq, Lk] matrix (CLIP's causal mask) shared by all batches and heads.
///
/// Heads are read in place through GEMM leading dimensions (no transposes). Work is split into
/// (batch, head, query chunk) tasks; a task holds only its chunk's scores, at most
/// `scoreBudget` floats, so 4096-token self-attention never materialises a 4096x4096 matrix per head.
/// Within a chunk the softmax runs over complete rows, which is exact (no rescaling needed).
public func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int, mask: Tensor? = nil) -> Tensor {
    precondition(query.rank == 3 && key.rank == 3 && value.rank == 3,
                 "attention: query \(query.shape), key \(key.shape), value \(value.shape) must be [B, L, heads*D]")
    let batch = query.shape[0], queryLength = query.shape[1], width = query.shape[2]
    let keyLength = key.shape[1]
    precondition(key.shape == [batch, keyLength, width] && value.shape == key.shape,
                 "attention: key \(key.shape) / value \(value.shape) do not match query \(query.shape)")
    precondition(heads > 0 && width % heads == 0, "attention: width \(width) of \(query.shape) not divisible by \(heads) heads")
    if let mask {
        precondition(mask.count == queryLength * keyLength && mask.rank >= 2
                     && mask.shape[mask.rank - 2] == queryLength && mask.shape[mask.rank - 1] == keyLength,
                     "attention: mask \(mask.shape) must be [\(queryLength), \(keyLength)] for query \(query.shape), key \(key.shape)")
    }
    let headDim = width / heads
    var result = Tensor(uninitializedShape: query.shape)
    if result.count == 0 { return result }
    if keyLength == 0 {
        // Softmax over nothing: PyTorch gives NaN rows.
        result.withUnsafeMutableBufferPointer { $0.update(repeating: .nan) }
        return result
    }
    let q = UnsafePointer(query.storage.pointer)
    let k = UnsafePointer(key.storage.pointer)
    let v = UnsafePointer(value.storage.pointer)
    let out = result.storage.pointer
    let maskPointer = mask.map { UnsafePointer($0.storage.pointer) }
    let chunk = max(1, min(queryLength, AttentionKernel.scoreBudget / keyLength))
    let chunks = (queryLength + chunk - 1) / chunk
    let scale = 1 / Float(headDim).squareRoot()
    Parallel.forEach(0..<(batch * heads * chunks)) { task in
        let b = task / (heads * chunks)
        let h = (task / chunks) % heads
        let first = (task % chunks) * chunk
        let rows = min(chunk, queryLength - first)
        Scratch.withBuffer(count: rows * keyLength + rows) { scores in
            let sums = scores + rows * keyLength
            let qBase = q + (b * queryLength + first) * width + h * headDim
            let kBase = k + b * keyLength * width + h * headDim
            let vBase = v + b * keyLength * width + h * headDim
            let outBase = out + (b * queryLength + first) * width + h * headDim
            // scores = scale * Q_chunk K^T
            Gemm.serial(transposeA: false, transposeB: true, m: rows, n: keyLength, k: headDim, alpha: scale,
                        a: qBase, lda: width, b: kBase, ldb: width, c: scores, ldc: keyLength)
            // Unnormalised softmax: exp(s - max) per row; the division by the row sum is applied
            // to the D-wide output rows below instead of the Lk-wide score rows.
            for r in 0..<rows {
                sums[r] = tk_softmax_exp_row(scores + r * keyLength,
                                             maskPointer.map { $0 + (first + r) * keyLength }, keyLength)
            }
            // out_chunk = P V
            Gemm.serial(transposeA: false, transposeB: false, m: rows, n: headDim, k: keyLength,
                        a: UnsafePointer(scores), lda: keyLength, b: vBase, ldb: width, c: outBase, ldc: width)
            for r in 0..<rows {
                let line = outBase + r * width
                let inverse = 1 / sums[r]
                for d in 0..<headDim { line[d] *= inverse }
            }
        }
    }
    withExtendedLifetime((query, key, value, mask)) {}
    return result
}

enum AttentionKernel {
    /// Floats of scores per task (4 MB): 256 query rows against 4096 keys.
    /// A var only so tests can force many small chunks.
    nonisolated(unsafe) static var scoreBudget = 1 << 22
}
