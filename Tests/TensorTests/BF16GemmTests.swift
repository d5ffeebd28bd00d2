import TensorKernels
@testable import Tensor
import XCTest

/// The bf16 GEMM kernels against float64 references, on every path this CPU has plus the scalar fallback,
/// and the dispatch choosing the fallback when the flags are absent.
final class BF16GemmTests: XCTestCase {
    override func tearDown() { tk_bf16_isa_set(-1) }

    /// bf16 bit patterns of values in [-1, 1) (normal numbers, so FTZ/DAZ in VDPBF16PS changes nothing).
    func randomBF16(_ count: Int, seed: UInt64) -> [UInt16] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let value = Float(Int64(bitPattern: state >> 11) % 20000) / 10000
            return UInt16(truncatingIfNeeded: (value == 0 ? Float(0.5) : value).bitPattern >> 16)
        }
    }

    func value(_ bits: UInt16) -> Double { Double(Float(bitPattern: UInt32(bits) << 16)) }

    /// Checks C = A Wᵀ on the current path. Products of bf16 values are exact in fp32, so the error is the fp32
    /// accumulation's: each product passes through at most k roundings of unit 2⁻²⁴, bounding the error by
    /// (k + 1) · 2⁻²⁴ · Σ|a·w| (the classic γₖ bound, for any summation order).
    func check(m: Int, n: Int, k: Int, path: String) {
        let lda = k + 3, ldw = k + 5, ldc = n + 2
        let a = randomBF16(m * lda, seed: UInt64(k * 31 + m)), w = randomBF16(n * ldw, seed: UInt64(k * 17 + n))
        var c = [Float](repeating: .nan, count: m * ldc)
        tk_bf16_gemm_nt(a, lda, w, ldw, &c, ldc, m, n, k)
        for i in 0..<m {
            for j in 0..<n {
                var exact = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let product = value(a[i * lda + p]) * value(w[j * ldw + p])
                    exact += product
                    magnitude += abs(product)
                }
                let bound = Double(k + 1) * 0x1p-24 * magnitude
                let error = abs(Double(c[i * ldc + j]) - exact)
                XCTAssertLessThanOrEqual(error, bound, "\(path) m\(m) n\(n) k\(k) at [\(i)][\(j)]")
                if error > bound { return }
            }
        }
        if ldc > n { XCTAssertTrue(c[ldc - 1].isNaN, "\(path): wrote past n in a row") }
    }

    func paths() -> [(Int32, String)] {
        var all = [(Int32(TK_BF16_ISA_SCALAR), "scalar")]
        if PrecisionSupport.detect(requestAMX: false).cpuFlags.contains("avx512_bf16") {
            all.append((Int32(TK_BF16_ISA_AVX512BF16), "avx512_bf16"))
        }
        return all
    }

    func testEveryPathMatchesFloat64WithinTheAccumulationBound() {
        for (isa, path) in paths() {
            tk_bf16_isa_set(isa)
            XCTAssertEqual(tk_bf16_isa(), isa, "\(path) selected")
            for k in [1, 2, 31, 32, 33, 64, 100, 517, 2048] {
                check(m: 3, n: 9, k: k, path: path)
            }
            check(m: 1, n: 1, k: 320, path: path)
            check(m: 5, n: 4, k: 0, path: path)
            // The AVX512_BF16 path's blocking: whole 12 x 32 tiles, row and column remainders (masks at 16 and 32
            // columns), several 256-column blocks and several 512-deep k blocks, odd k at a block's end.
            for (m, n, k) in [(12, 32, 64), (13, 17, 513), (40, 48, 9), (25, 300, 1031), (24, 16, 1024), (1, 33, 2)] {
                check(m: m, n: n, k: k, path: path)
            }
        }
    }

    func testFallbackIsChosenWhenFlagsAreAbsent() {
        XCTAssertEqual(tk_bf16_isa_choose(0, 0), Int32(TK_BF16_ISA_SCALAR))
        XCTAssertEqual(tk_bf16_isa_choose(0, 1), Int32(TK_BF16_ISA_SCALAR), "no AMX tile kernel: never an AMX path")
        XCTAssertEqual(tk_bf16_isa_choose(1, 0), Int32(TK_BF16_ISA_AVX512BF16))
        tk_bf16_isa_set(Int32(TK_BF16_ISA_SCALAR))
        XCTAssertEqual(tk_bf16_isa(), Int32(TK_BF16_ISA_SCALAR), "setting the fallback selects it")
        tk_bf16_isa_set(Int32(TK_BF16_ISA_AMX))
        XCTAssertLessThanOrEqual(tk_bf16_isa(), Int32(TK_BF16_ISA_AVX512BF16), "a path the CPU lacks is never run")
        tk_bf16_isa_set(-1)
        let hasBF16 = PrecisionSupport.detect(requestAMX: false).cpuFlags.contains("avx512_bf16")
        XCTAssertEqual(tk_bf16_isa(), hasBF16 ? Int32(TK_BF16_ISA_AVX512BF16) : Int32(TK_BF16_ISA_SCALAR))
    }
}
