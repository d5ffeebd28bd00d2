import TensorKernels

/// Scaled dot-product attention, softmax(Q K^T / sqrt(D) + mask) V, per head.
///
/// query [B, Lq, heads*D], key/value [B, Lk, heads*D] -> [B, Lq, heads*D]; `mask` is an additive
/// [Lq, Lk] matrix (CLIP's causal mask) shared by all batches and heads.
///
/// Work is split into (batch, head, query chunk) tasks; a task holds only its chunk's scores, so
/// 4096-token self-attention never materialises a 4096x4096 matrix per head. Within a chunk the
/// softmax runs over complete rows, which is exact (no rescaling needed). Heads up to 192 wide (all of
/// SD's) go through a register-blocked C kernel on keys packed once per head; wider ones through two
/// OpenBLAS products per chunk, reading heads in place through leading dimensions.
public func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int, mask: Tensor? = nil) -> Tensor {
    let (batch, queryLength, keyLength, width) = attentionShape(query, key, value, heads: heads, mask: mask, name: "attention")
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
    let scale = 1 / Float(headDim).squareRoot()
    let shape = AttentionShape(batch: batch, heads: heads, queryLength: queryLength, keyLength: keyLength,
                               width: width, headDim: headDim)
    if AttentionKernel.useBlockedKernel && headDim <= Int(TK_ATTENTION_MAX_HEAD_DIM)
        && keyLength >= AttentionKernel.blockedMinimumKeys {
        AttentionKernel.blocked(shape, q, k, v, maskPointer, scale, out)
    } else {
        AttentionKernel.blas(shape, q, k, v, maskPointer, scale, out)
    }
    withExtendedLifetime((query, key, value, mask)) {}
    return result
}

struct AttentionShape {
    let batch: Int, heads: Int, queryLength: Int, keyLength: Int, width: Int, headDim: Int
}

enum AttentionKernel {
    /// Floats of scores per task in the BLAS path (16 MB).
    /// A var only so tests can force many small chunks.
    nonisolated(unsafe) static var scoreBudget = 1 << 22

    /// The register-blocked kernel (TensorKernels' tk_attention_rows) for heads up to
    /// TK_ATTENTION_MAX_HEAD_DIM wide; tests turn it off to check the BLAS path.
    nonisolated(unsafe) static var useBlockedKernel = true

    /// Fewer keys (cross-attention on 77 text tokens) run faster through BLAS: the kernel pads keys to
    /// whole 64-key tiles. A var so tests can force the kernel.
    nonisolated(unsafe) static var blockedMinimumKeys = 256

    /// Query rows per blocked task: the task's scores (rows x keys) stay within L2 at 4096 keys.
    nonisolated(unsafe) static var blockedRows = 32

    /// Keys and values are packed once per (batch, head); then every task takes `blockedRows` query rows
    /// of one head.
    static func blocked(_ s: AttentionShape, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                        _ v: UnsafePointer<Float>, _ mask: UnsafePointer<Float>?, _ scale: Float,
                        _ out: UnsafeMutablePointer<Float>) {
        let paddedKeys = tk_attention_padded_keys(s.keyLength), paddedDim = tk_attention_padded_dim(s.headDim)
        let headKeys = s.headDim * paddedKeys, headValues = s.keyLength * paddedDim
        let packed = TensorStorage(uninitializedCount: s.batch * s.heads * (headKeys + headValues))
        let keys = packed.pointer, values = packed.pointer + s.batch * s.heads * headKeys
        Parallel.forEach(0..<(s.batch * s.heads)) { bh in
            let b = bh / s.heads, h = bh % s.heads
            let offset = b * s.keyLength * s.width + h * s.headDim
            tk_attention_pack(k + offset, v + offset, s.width, s.keyLength, s.headDim,
                              keys + bh * headKeys, values + bh * headValues)
        }
        let rows = max(1, min(blockedRows, Int(TK_ATTENTION_MAX_ROWS), s.queryLength))
        let chunks = (s.queryLength + rows - 1) / rows
        Parallel.forEach(0..<(s.batch * s.heads * chunks)) { task in
            let bh = task / chunks
            let b = bh / s.heads, h = bh % s.heads
            let first = (task % chunks) * rows
            let count = min(rows, s.queryLength - first)
            Scratch.withBuffer(count: count * (paddedKeys + paddedDim)) { scratch in
                let rowOffset = (b * s.queryLength + first) * s.width + h * s.headDim
                tk_attention_rows(q + rowOffset, s.width, keys + bh * headKeys, values + bh * headValues,
                                  count, s.keyLength, s.headDim, scale,
                                  mask.map { $0 + first * s.keyLength }, s.keyLength,
                                  scratch, scratch + count * paddedKeys, out + rowOffset, s.width)
            }
        }
        withExtendedLifetime(packed) {}
    }

    /// Per (batch, head, query chunk): two OpenBLAS products around an unnormalised softmax. Used for
    /// heads wider than the blocked kernel takes.
    static func blas(_ s: AttentionShape, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                     _ v: UnsafePointer<Float>, _ maskPointer: UnsafePointer<Float>?, _ scale: Float,
                     _ out: UnsafeMutablePointer<Float>) {
        let (batch, heads, queryLength, keyLength, width, headDim) =
            (s.batch, s.heads, s.queryLength, s.keyLength, s.width, s.headDim)
        let chunk = max(1, min(queryLength, scoreBudget / keyLength))
        let chunks = (queryLength + chunk - 1) / chunk
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
    }
}

/// The sizes of an attention call, [B, Lq, heads·D] queries against [B, Lk, heads·D] keys and values and an
/// optional [Lq, Lk] mask, checked the same way for every precision: (B, Lq, Lk, heads·D).
func attentionShape(_ query: Tensor, _ key: Tensor, _ value: Tensor, heads: Int, mask: Tensor?,
                    name: String) -> (batch: Int, queryLength: Int, keyLength: Int, width: Int) {
    precondition(query.rank == 3 && key.rank == 3 && value.rank == 3,
                 "\(name): query \(query.shape), key \(key.shape), value \(value.shape) must be [B, L, heads*D]")
    let batch = query.shape[0], queryLength = query.shape[1], width = query.shape[2]
    let keyLength = key.shape[1]
    precondition(key.shape == [batch, keyLength, width] && value.shape == key.shape,
                 "\(name): key \(key.shape) / value \(value.shape) do not match query \(query.shape)")
    precondition(heads > 0 && width % heads == 0, "\(name): width \(width) of \(query.shape) not divisible by \(heads) heads")
    if let mask {
        precondition(mask.count == queryLength * keyLength && mask.rank >= 2
                     && mask.shape[mask.rank - 2] == queryLength && mask.shape[mask.rank - 1] == keyLength,
                     "\(name): mask \(mask.shape) must be [\(queryLength), \(keyLength)] for query \(query.shape), key \(key.shape)")
    }
    return (batch, queryLength, keyLength, width)
}
