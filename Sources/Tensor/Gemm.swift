import CBLAS
import TensorKernels

/// Row-major single-precision GEMM, C = alpha * op(A) * op(B) + beta * C, split across the compute
/// threads as independent single-threaded `cblas_sgemm` calls (see `ComputeConfig` for why).
///
/// Either operand may be 16-bit resident weights (`GemmOperand`). Widening is exact, so the product must be
/// the one float32 weights give, bit for bit, and that constrains how the widened weights may be split:
/// OpenBLAS (row-major C is its column-major Cᵀ) cuts the output's columns into blocks of its `GEMM_P` and
/// its Haswell/Zen kernel sums the first and last 8 columns of each block with split accumulators, so
/// splitting the columns anywhere changes bits; its rows it hands to the kernel in groups of 3 or 6 unroll
/// widths (12 or 24 on every x86 core), so row splits on multiples of `rowGranule` keep every row's
/// micro-kernel. Hence: `multiply` widens a 16-bit operand whole, once, for all threads; `serial` widens
/// weights that give output rows (A) one panel of `rowGranule`-aligned rows at a time (`widenedPanelFloats`
/// at most), and weights that give output columns (B) whole.
public enum Gemm {
    /// Largest widened weight panel, in floats (4 MB per thread). A var so tests can force narrow panels.
    nonisolated(unsafe) static var widenedPanelFloats = 1 << 20

    /// Output rows per panel step: a multiple of 12 and 24 (OpenBLAS's row groups) and of 16 (full
    /// AVX-512 micro-tiles).
    static let rowGranule = 48

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
        multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                 a: GemmOperand(a), lda: lda, b: GemmOperand(b), ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    /// `multiply` with operands in any resident element type.
    public static func multiply(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: GemmOperand, lda: Int,
        b: GemmOperand, ldb: Int,
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
        if b.elementType != .float32 {
            // Whole, so the split below is the one float32 weights get, and once, not once per thread. (Were A
            // 16-bit too, its widening below would find the workspace taken and get a private copy.)
            let (rows, columns) = transposeB ? (n, k) : (k, n)
            return withWidenedWhole(b, rows: rows, columns: columns, stride: ldb) { wide, ld in
                multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                         a: a, lda: lda, b: wide, ldb: ld, beta: beta, c: c, ldc: ldc)
            }
        }
        if a.elementType != .float32 {
            let (rows, columns) = transposeA ? (k, m) : (m, k)
            return withWidenedWhole(a, rows: rows, columns: columns, stride: lda) { wide, ld in
                multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                         a: wide, lda: ld, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
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
                let bSlice = b.advanced(by: transposeB ? start * ldb : start)
                serial(transposeA: transposeA, transposeB: transposeB, m: m, n: end - start, k: k,
                       alpha: alpha, a: a, lda: lda, b: bSlice, ldb: ldb, beta: beta,
                       c: c + start, ldc: ldc)
            } else {
                let aSlice = a.advanced(by: transposeA ? start : start * lda)
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

    /// `serial` with operands in any resident element type: 16-bit weights are widened panel by panel.
    public static func serial(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: GemmOperand, lda: Int,
        b: GemmOperand, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        switch (a.elementType == .float32, b.elementType == .float32) {
        case (true, true):
            serial(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                   a: a.floats, lda: lda, b: b.floats, ldb: ldb, beta: beta, c: c, ldc: ldc)
        case (true, false):
            // Output columns: OpenBLAS's own column blocks decide the bits, so B is widened whole.
            let (rows, columns) = transposeB ? (n, k) : (k, n)
            Scratch.withPanel(count: rows * columns) { wide in
                widen(b, rows: rows, columns: columns, stride: ldb, into: wide, panelStride: columns)
                serial(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                       a: a.floats, lda: lda, b: UnsafePointer(wide), ldb: max(1, columns), beta: beta, c: c, ldc: ldc)
            }
        case (false, true):
            // Panels of output rows: A's rows i0..<i1 (or its columns, transposed).
            forEachRowPanel(extent: m, depth: k) { i0, height, panel in
                let ld = transposeA ? height : k
                widen(a.advanced(by: transposeA ? i0 : i0 * lda), rows: transposeA ? k : height,
                      columns: transposeA ? height : k, stride: lda, into: panel, panelStride: ld)
                serial(transposeA: transposeA, transposeB: transposeB, m: height, n: n, k: k, alpha: alpha,
                       a: UnsafePointer(panel), lda: max(1, ld), b: b.floats, ldb: ldb, beta: beta,
                       c: c + i0 * ldc, ldc: ldc)
            }
        case (false, false):
            // Weights times weights: no op multiplies two resident weight matrices, so widen A whole.
            let wide = TensorStorage(uninitializedCount: transposeA ? k * lda : m * lda)
            widen(a, rows: transposeA ? k : m, columns: transposeA ? m : k, stride: lda, into: wide.pointer, panelStride: lda)
            withExtendedLifetime(wide) {
                serial(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                       a: GemmOperand(wide), lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        }
    }

    /// Calls `body(start, size, panel)` for consecutive panels of `extent` output rows, each at most
    /// `widenedPanelFloats / depth` rows but at least `rowGranule`, and a multiple of it, with this
    /// thread's panel scratch.
    private static func forEachRowPanel(extent: Int, depth: Int,
                                        _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let fitting = max(rowGranule, widenedPanelFloats / max(1, depth) / rowGranule * rowGranule)
        let size = min(extent, fitting)
        Scratch.withPanel(count: size * max(1, depth)) { panel in
            var start = 0
            while start < extent {
                let width = min(size, extent - start)
                body(start, width, panel)
                start += width
            }
        }
    }

    /// Calls `body` with `operand` (`rows` x `columns`, rows `stride` apart) widened whole into the shared
    /// workspace, and the widened copy's leading dimension.
    private static func withWidenedWhole(_ operand: GemmOperand, rows: Int, columns: Int, stride: Int,
                                         _ body: (GemmOperand, Int) -> Void) {
        ReusableWorkspace.widenedWeights.withBuffer(count: rows * columns) { wide in
            widenInParallel(operand, rows: rows, columns: columns, stride: stride, into: wide)
            body(GemmOperand(UnsafePointer(wide)), max(1, columns))
        }
    }

    /// `widen` of a whole `rows` x `columns` operand into compact `wide`, rows shared across the threads.
    private static func widenInParallel(_ source: GemmOperand, rows: Int, columns: Int, stride: Int,
                                        into wide: UnsafeMutablePointer<Float>) {
        Parallel.forEachSlice(count: rows, grain: max(1, 65536 / max(1, columns))) { range in
            widen(source.advanced(by: range.lowerBound * stride), rows: range.count, columns: columns,
                  stride: stride, into: wide + range.lowerBound * columns, panelStride: columns)
        }
    }

    private static func widen(_ source: GemmOperand, rows: Int, columns: Int, stride: Int,
                              into panel: UnsafeMutablePointer<Float>, panelStride: Int) {
        guard let format = source.elementType.kernelFormat else {
            let floats = source.floats
            for row in 0..<rows { (panel + row * panelStride).update(from: floats + row * stride, count: columns) }
            return
        }
        tk_widen_block(source.address, format, rows, columns, stride, panel, panelStride)
    }
}
