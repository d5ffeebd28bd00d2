import XCTest
@testable import Tensor
import TensorKernels

/// The blocked attention kernel against float64 attention, over every head width class it specialises
/// (1 to 12 vectors of 16), key counts that are not whole 64-key tiles, query counts that leave partial
/// row groups, with and without an additive mask, on each code path this CPU can run (16-lane tiles; 8-lane
/// AVX2+FMA tiles).
final class AttentionKernelTests: XCTestCase {
    /// float32 vs float64, max|ours - exact| / max|exact|: the sums are over at most a few hundred
    /// terms, so a few 1e-7 is expected; 1e-5 leaves room without hiding a wrong index.
    let tolerance = 1e-5

    override func tearDown() {
        AttentionKernel.useBlockedKernel = true
        AttentionKernel.blockedMinimumKeys = 256
        AttentionKernel.blockedRows = 32
        tk_attention_path_force(-1)
    }

    /// The kernel's code paths this CPU can run.
    var paths: [Int32] {
        [Int32(TK_ATTENTION_PATH_WIDE), Int32(TK_ATTENTION_PATH_AVX2)].filter { tk_attention_path_available($0) != 0 }
    }

    func testForcingAPathSelectsIt() {
        for path in paths {
            tk_attention_path_force(path)
            XCTAssertEqual(tk_attention_path(), path)
        }
        tk_attention_path_force(-1)
        XCTAssertTrue(paths.contains(tk_attention_path()), "the detected path must be one this CPU runs")
    }

    func testMatchesFloat64() {
        AttentionKernel.blockedMinimumKeys = 1
        let shapes: [(batch: Int, queries: Int, keys: Int, heads: Int, headDim: Int)] = [
            (1, 1, 1, 1, 1), (2, 5, 77, 2, 40), (1, 70, 300, 3, 16), (2, 9, 64, 1, 64), (1, 13, 129, 2, 80),
            (1, 6, 65, 1, 160), (1, 4, 100, 1, 192), (1, 3, 30, 2, 33), (1, 8, 17, 1, 100), (1, 7, 40, 1, 130),
            (1, 11, 1100, 1, 40),  // several 512-key blocks: P V accumulates across them
        ]
        for path in paths {
            tk_attention_path_force(path)
            matchesFloat64(shapes, path: path)
        }
    }

    private func matchesFloat64(_ shapes: [(batch: Int, queries: Int, keys: Int, heads: Int, headDim: Int)], path: Int32) {
        var seed: UInt64 = 1
        for rows in [32, 3] {
            AttentionKernel.blockedRows = rows
            for (index, s) in shapes.enumerated() {
                for masked in [false, true] {
                    let label = "path \(path), shape \(index) \(s), \(rows)-row tasks, mask \(masked)"
                    let width = s.heads * s.headDim
                    seed += 1
                    let q = Float64Checks.randomTensor([s.batch, s.queries, width], seed: seed)
                    let k = Float64Checks.randomTensor([s.batch, s.keys, width], seed: seed + 1000)
                    let v = Float64Checks.randomTensor([s.batch, s.keys, width], seed: seed + 2000)
                    let mask = masked ? Float64Checks.randomTensor([s.queries, s.keys], seed: seed + 3000, scale: 4) : nil
                    let actual = attention(query: q, key: k, value: v, heads: s.heads, mask: mask)
                    let exact = reference(q, k, v, heads: s.heads, mask: mask)
                    XCTAssertEqual(actual.shape, q.shape, label)
                    XCTAssertLessThanOrEqual(Float64Checks.relativeError(actual.scalars, exact), tolerance, label)
                }
            }
        }
    }

    func testWideHeadsAndShortKeysUseBLAS() {
        // Not a numeric check: the routing rules, so the BLAS path keeps covering what the kernel does not.
        AttentionKernel.blockedMinimumKeys = 256
        let q = Float64Checks.randomTensor([1, 4, 2 * 200], seed: 7), k = Float64Checks.randomTensor([1, 300, 2 * 200], seed: 8)
        let exact = reference(q, k, k, heads: 2, mask: nil)
        XCTAssertLessThanOrEqual(Float64Checks.relativeError(attention(query: q, key: k, value: k, heads: 2).scalars, exact), tolerance,
                                 "200-wide heads (over TK_ATTENTION_MAX_HEAD_DIM) through BLAS")
    }


    private func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: Tensor?) -> [Double] {
        let batch = q.shape[0], queries = q.shape[1], width = q.shape[2], keys = k.shape[1]
        let headDim = width / heads
        let qs = q.scalars, ks = k.scalars, vs = v.scalars, ms = mask?.scalars
        let scale = 1 / Double(headDim).squareRoot()
        var out = [Double](repeating: 0, count: q.count)
        for b in 0..<batch {
            for h in 0..<heads {
                for i in 0..<queries {
                    var scores = [Double](repeating: 0, count: keys)
                    for j in 0..<keys {
                        var dot = 0.0
                        for d in 0..<headDim {
                            let qi: Int = (b * queries + i) * width + h * headDim + d
                            let kj: Int = (b * keys + j) * width + h * headDim + d
                            dot += Double(qs[qi]) * Double(ks[kj])
                        }
                        scores[j] = dot * scale + Double(ms?[i * keys + j] ?? 0)
                    }
                    let top = scores.max() ?? 0
                    let weights = scores.map { Foundation.exp($0 - top) }
                    let total = weights.reduce(0, +)
                    for d in 0..<headDim {
                        var sum = 0.0
                        for j in 0..<keys {
                            let vj: Int = (b * keys + j) * width + h * headDim + d
                            sum += weights[j] * Double(vs[vj])
                        }
                        out[(b * queries + i) * width + h * headDim + d] = sum / total
                    }
                }
            }
        }
        return out
    }
}
