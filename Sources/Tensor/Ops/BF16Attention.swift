#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TensorKernels

/// `attention` in bf16 compute, as PyTorch's bf16 SDPA on the CPU does it: Q, K and V narrowed to bf16 once,
/// scores QKᵀ and the output PV by `tk_bf16_gemm_nt` with fp32 accumulation, the scale, mask and softmax in fp32
/// (the probabilities narrowed to bf16 only as the PV operand). Same shapes and mask rule as `attention`; work is
/// split into (batch, head, query chunk) tasks, each holding only its chunk's scores.
public func attentionBF16(query: Tensor, key: Tensor, value: Tensor, heads: Int, mask: Tensor? = nil) -> Tensor {
    let (batch, queryLength, keyLength, width) = attentionShape(query, key, value, heads: heads, mask: mask,
                                                                name: "attentionBF16")
    var result = Tensor(uninitializedShape: query.shape)
    if result.count == 0 { return result }
    if keyLength == 0 {
        result.withUnsafeMutableBufferPointer { $0.update(repeating: .nan) }
        return result
    }
    let headDim = width / heads
    let q16 = bf16Weights(query).storage, k16 = bf16Weights(key).storage
    let v16 = bf16Weights(value).storage
    let q = UnsafePointer(q16.address.assumingMemoryBound(to: UInt16.self))
    let k = UnsafePointer(k16.address.assumingMemoryBound(to: UInt16.self))
    let v = UnsafePointer(v16.address.assumingMemoryBound(to: UInt16.self))
    // Vᵀ per (batch, head), [D, Lk]: the PV product reads both operands along the key axis.
    let transposed = UnsafeMutablePointer<UInt16>.allocate(capacity: batch * heads * headDim * keyLength)
    defer { transposed.deallocate() }
    Parallel.forEach(0..<(batch * heads)) { task in
        let b = task / heads, h = task % heads
        let target = transposed + task * headDim * keyLength
        for t in 0..<keyLength {
            let row = v + (b * keyLength + t) * width + h * headDim
            for d in 0..<headDim { target[d * keyLength + t] = row[d] }
        }
    }
    let out = result.storage.pointer
    let maskPointer = mask.map { UnsafePointer($0.storage.pointer) }
    let scale = 1 / Float(headDim).squareRoot()
    let rowsPerChunk = max(1, min(queryLength, AttentionKernel.scoreBudget / max(1, keyLength)))
    let chunks = (queryLength + rowsPerChunk - 1) / rowsPerChunk
    Parallel.forEach(0..<(batch * heads * chunks)) { task in
        let head = task / chunks
        let b = head / heads, h = head % heads
        let firstRow = (task % chunks) * rowsPerChunk
        let rows = min(rowsPerChunk, queryLength - firstRow)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: rows * keyLength)
        let probabilities = UnsafeMutablePointer<UInt16>.allocate(capacity: rows * keyLength)
        defer { scores.deallocate(); probabilities.deallocate() }
        tk_bf16_gemm_nt(q + (b * queryLength + firstRow) * width + h * headDim, width,
                        k + b * keyLength * width + h * headDim, width, scores, keyLength, rows, keyLength, headDim)
        for r in 0..<rows {
            let row = scores + r * keyLength
            let maskRow = maskPointer.map { $0 + (firstRow + r) * keyLength }
            var largest = -Float.infinity
            for j in 0..<keyLength {
                row[j] = row[j] * scale + (maskRow?[j] ?? 0)
                largest = max(largest, row[j])
            }
            var sum: Float = 0
            for j in 0..<keyLength {
                row[j] = expf(row[j] - largest)
                sum += row[j]
            }
            let inverse = 1 / sum
            for j in 0..<keyLength { row[j] *= inverse }
        }
        tk_bf16_narrow(scores, rows * keyLength, probabilities)
        tk_bf16_gemm_nt(probabilities, keyLength, transposed + head * headDim * keyLength, keyLength,
                        out + (b * queryLength + firstRow) * width + h * headDim, width, rows, headDim, keyLength)
    }
    withExtendedLifetime((q16, k16, v16, mask)) {}
    return result
}
