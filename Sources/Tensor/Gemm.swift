import CBLAS

/// Row-major single-precision GEMM, C = alpha * op(A) * op(B) + beta * C, split across the compute
/// threads as independent single-threaded `cblas_sgemm` calls (see `ComputeConfig` for why).
public enum Gemm {
    /// Products smaller than this many multiply-adds are not worth waking the pool for.
    /// A var only so tests can force the split path on small products.
    nonisolated(unsafe) static var parallelThreshold = 1 << 21

    public static func multiply(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        let threads = ComputeConfig.threads
        if threads == 1 || WorkerPool.isWorkerThread || m * n * k < parallelThreshold {
            serial(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        // Split the larger output dimension; keep slice edges on 16-element boundaries so every
        // slice runs the kernel's full-width micro-tiles. Two slices per thread when the product is
        // large, so a thread that loses its core to another process does not hold up the result.
        let splitN = n >= m
        let extent = splitN ? n : m
        let perThread = m * n * k >= 8 * parallelThreshold && extent >= 256 * threads ? 2 : 1
        let slices = min(threads * perThread, max(1, extent / 16))
        Parallel.forEach(0..<slices) { slice in
            let start = (extent * slice / slices) & ~15
            let end = slice == slices - 1 ? extent : (extent * (slice + 1) / slices) & ~15
            if end <= start { return }
            if splitN {
                let bSlice = transposeB ? b + start * ldb : b + start
                serial(transposeA: transposeA, transposeB: transposeB, m: m, n: end - start, k: k,
                       alpha: alpha, a: a, lda: lda, b: bSlice, ldb: ldb, beta: beta,
                       c: c + start, ldc: ldc)
            } else {
                let aSlice = transposeA ? a + start : a + start * lda
                serial(transposeA: transposeA, transposeB: transposeB, m: end - start, n: n, k: k,
                       alpha: alpha, a: aSlice, lda: lda, b: b, ldb: ldb, beta: beta,
                       c: c + start * ldc, ldc: ldc)
            }
        }
    }

    /// One `cblas_sgemm` on the calling thread.
    @inline(__always)
    public static func serial(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS leaves C * beta; make that explicit so beta == 0 also clears garbage.
            for row in 0..<m {
                let line = c + row * ldc
                for column in 0..<n { line[column] = beta == 0 ? 0 : line[column] * beta }
            }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha,
                    a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}
