@testable import Tensor
import TensorKernels
import XCTest

/// 16-bit resident weights: conversions agree bit for bit on every code path (the scalar fallback is chosen
/// when forced, as on a CPU without F16C), and linear/conv2d on fp16 or bf16 weights equal float32 weights
/// holding the same values bit for bit, however the weights are split into panels.
final class HalfPrecisionWeightsTests: XCTestCase {
    override func tearDown() {
        tk_half_isa_force(-1)
        Gemm.widenedPanelFloats = 1 << 20
        Gemm.parallelThreshold = 1 << 21
        WinogradConvolution.forcedVariant = nil
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumTiles2x2 = 96
        WinogradConvolution.minimumChannels = 16
    }

    func testEveryHalfValueWidensTheSameOnEveryPath() {
        let all = (0...0xFFFF).map { UInt16($0) }
        var results: [[UInt32]] = []
        for isa in [Int32(TK_HALF_ISA_SCALAR), Int32(TK_HALF_ISA_F16C), Int32(TK_HALF_ISA_AVX512)] {
            tk_half_isa_force(isa)
            XCTAssertLessThanOrEqual(tk_half_isa(), max(isa, 0))
            var out = [Float](repeating: 0, count: all.count)
            tk_f16_widen(all, all.count, &out)
            results.append(out.map(\.bitPattern))
            var back = [UInt16](repeating: 0, count: all.count)
            tk_f16_narrow(out, out.count, &back)
            for (i, bits) in all.enumerated() where !Float(bitPattern: out[i].bitPattern).isNaN {
                XCTAssertEqual(back[i], bits, "round trip of half \(bits) on path \(isa)")
            }
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
        tk_half_isa_force(Int32(TK_HALF_ISA_SCALAR))
        XCTAssertEqual(tk_half_isa(), Int32(TK_HALF_ISA_SCALAR), "forcing the fallback must select it")
    }

    func testExactNarrowingRejectsValuesThatAreNotHalves() {
        let storage = TensorStorage(uninitializedCount: 3)
        storage.pointer[0] = 1.5; storage.pointer[1] = -0.0; storage.pointer[2] = 1.0 + 1.0 / 4096
        XCTAssertNil(storage.narrowed(to: .float16, exactOnly: true))
        storage.pointer[2] = 65504
        let half = try! XCTUnwrap(storage.narrowed(to: .float16, exactOnly: true))
        XCTAssertEqual(half.byteCount, 6)
        XCTAssertEqual(Tensor(shape: [3], storage: half).scalars.map(\.bitPattern), [1.5, -0.0, 65504].map { Float($0).bitPattern })
        XCTAssertFalse(half.isWritable)
    }

    /// Random float32 weights rounded to `type`, as float32 and as 16-bit storage.
    func weights(_ shape: [Int], _ type: TensorElementType, seed: UInt64) -> (wide: Tensor, narrow: Tensor) {
        var state = seed
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
        }
        let narrow = Tensor(shape: shape, values: values).storage.narrowed(to: type, exactOnly: false)!
        return (Tensor(shape: shape, storage: narrow.widenedToFloat32()), Tensor(shape: shape, storage: narrow))
    }

    func assertBitIdentical(_ a: Tensor, _ b: Tensor, _ what: String) {
        XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern), what)
    }

    func testLinearAndMatmulOnHalfWeightsEqualFloat32Weights() {
        for type in [TensorElementType.float16, .bfloat16] {
            // On one thread (`serial`: B widened whole, A in row panels) and split across threads (`multiply`:
            // widened once), with the whole-weight panel and with 192-row panels as real layers get. 1283 output
            // columns span several of OpenBLAS's column blocks, whose edges are summed differently on AVX2.
            for (panel, threshold) in [(1 << 20, Int.max), (192 * 320, Int.max), (192 * 320, 1)] {
                Gemm.widenedPanelFloats = panel
                Gemm.parallelThreshold = threshold
                let x = weights([2, 150, 320], .float16, seed: 1).wide
                let w = weights([1283, 320], type, seed: 2), bias = weights([1283], .float16, seed: 3).wide
                assertBitIdentical(linear(x, weight: w.narrow, bias: bias), linear(x, weight: w.wide, bias: bias),
                                   "linear \(type) \(panel) \(threshold)")
                let b = weights([320, 700], type, seed: 4)
                assertBitIdentical(matmul(x, b.narrow), matmul(x, b.wide), "matmul \(type) \(panel) \(threshold)")
                // Weights on the left (as convolutions have them), 130 rows: 48-row panels and a remainder.
                let left = weights([130, 320], type, seed: 8)
                let right = weights([320, 333], .float16, seed: 9).wide
                assertBitIdentical(matmul(left.narrow, right), matmul(left.wide, right), "left \(type) \(panel) \(threshold)")
                // Both operands 16-bit (no model op does this; the GEMM must still be exact).
                assertBitIdentical(matmul(left.narrow, b.narrow), matmul(left.wide, b.wide), "both \(type) \(panel) \(threshold)")
            }
        }
    }

    func testConvolutionsOnHalfWeightsEqualFloat32Weights() {
        let x = weights([2, 18, 11, 13], .float16, seed: 5).wide
        for type in [TensorElementType.float16, .bfloat16] {
            Gemm.widenedPanelFloats = 16 * 18 * 9
            Gemm.parallelThreshold = 1
            // 101 and 130 output channels: 48-row panels and remainders that end in different row groups.
            for channels in [101, 130] {
                for (kernel, stride, padding) in [(1, 1, 0), (3, 1, 1), (3, 2, 1)] {
                    let w = weights([channels, 18, kernel, kernel], type, seed: 6)
                    assertBitIdentical(conv2d(x, weight: w.narrow, bias: nil, stride: stride, padding: padding),
                                       conv2d(x, weight: w.wide, bias: nil, stride: stride, padding: padding),
                                       "conv \(channels) \(kernel) \(type)")
                }
            }
            WinogradConvolution.minimumTiles4x4 = 1
            WinogradConvolution.minimumTiles2x2 = 1
            WinogradConvolution.minimumChannels = 1
            for variant in [WinogradConvolution.Variant.f4x4, .f2x2] {
                WinogradConvolution.forcedVariant = variant
                let w = weights([37, 18, 3, 3], type, seed: 7)
                assertBitIdentical(conv2d(x, weight: w.narrow, bias: nil, padding: 1),
                                   conv2d(x, weight: w.wide, bias: nil, padding: 1), "winograd \(variant) \(type)")
            }
            WinogradConvolution.forcedVariant = nil
        }
    }

    /// `copyFloat32` of any slice gives the bits `widenedToFloat32` gives there, for fp16, bf16 and float32.
    func testCopyFloat32OfASliceEqualsTheWidenedSlice() throws {
        let values = (0..<1000).map { Float(($0 * 7919) % 2001 - 1000) / 337 }
        let wide = TensorStorage(uninitializedCount: values.count)
        wide.pointer.update(from: values, count: values.count)
        for storage in [wide, try XCTUnwrap(wide.narrowed(to: .float16, exactOnly: false)),
                        try XCTUnwrap(wide.narrowed(to: .bfloat16, exactOnly: false))] {
            let expected = storage.widenedToFloat32()
            for range in [0..<1000, 0..<1, 3..<700, 999..<1000, 500..<500] {
                let out = UnsafeMutablePointer<Float>.allocate(capacity: max(range.count, 1))
                defer { out.deallocate() }
                storage.copyFloat32(range, into: out)
                for (i, index) in range.enumerated() {
                    XCTAssertEqual(out[i].bitPattern, expected.pointer[index].bitPattern, "\(storage.elementType) \(range)")
                }
            }
        }
    }
}
