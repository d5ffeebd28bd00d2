import CPUFeatures
import Foundation
import TensorKernels
@testable import Tensor
import XCTest

/// `conv2dBF16` and `attentionBF16` against float64 references on the bf16-rounded operands, with bounds from the
/// accumulation length (products of bf16 values are exact in fp32; only the fp32 sums round), on every bf16 path
/// this CPU has and the scalar fallback.
final class BF16ConvAttentionTests: XCTestCase {
    override func tearDown() { tk_bf16_isa_set(-1) }

    var isas: [Int32] {
        var isas = [Int32(TK_BF16_ISA_SCALAR)]
        if PrecisionSupport.detect(requestAMX: false).cpuFlags.contains("avx512_bf16") { isas.append(Int32(TK_BF16_ISA_AVX512BF16)) }
        return isas
    }

    func rounded(_ t: Tensor) -> [Float] { bf16Weights(t).widenedToFloat32().scalars }

    func testConvolutionMatchesFloat64OnRoundedOperands() {
        // (batch, channels, height, width, out, kernel, stride, padding): 3×3 and 1×1, strided, padded, odd sizes,
        // and more positions than one column chunk so the chunk loop runs.
        let cases = [(2, 5, 9, 7, 6, 3, 1, 1), (1, 3, 8, 8, 4, 3, 2, 1), (2, 17, 5, 6, 3, 1, 1, 0), (1, 2, 7, 5, 3, 3, 2, 0),
                     (1, 4, 40, 36, 5, 3, 1, 1)]
        let budget = Conv2dKernels.columnBudget
        defer { Conv2dKernels.columnBudget = budget }
        for (index, c) in cases.enumerated() {
            let (n, ch, h, w, o, k, stride, padding) = c
            if index == cases.count - 1 { Conv2dKernels.columnBudget = 36 * 100 }
            let x = Float64Checks.randomTensor([n, ch, h, w], seed: UInt64(20 + index))
            let weight = Float64Checks.randomTensor([o, ch, k, k], seed: UInt64(40 + index), scale: 0.3)
            let bias = Float64Checks.randomTensor([o], seed: UInt64(60 + index))
            let rx = rounded(x), rw = rounded(weight), b = bias.scalars
            let oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1
            let fp32 = conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding).scalars
            for isa in isas {
                tk_bf16_isa_set(isa)
                let y = conv2dBF16(x, weight: bf16Weights(weight), bias: bias, stride: stride, padding: padding)
                XCTAssertEqual(y.shape, [n, o, oh, ow])
                let out = y.scalars
                let length = ch * k * k
                for image in 0..<n {
                    for oc in 0..<o {
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var exact = Double(b[oc]), magnitude = abs(Double(b[oc]))
                                for ic in 0..<ch {
                                    for ky in 0..<k {
                                        for kx in 0..<k {
                                            let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                            let product = Double(rx[((image * ch + ic) * h + iy) * w + ix])
                                                * Double(rw[((oc * ch + ic) * k + ky) * k + kx])
                                            exact += product
                                            magnitude += abs(product)
                                        }
                                    }
                                }
                                let i = ((image * o + oc) * oh + oy) * ow + ox
                                // `length` fp32 additions plus the bias add, each rounding by at most 2⁻²⁴.
                                XCTAssertLessThanOrEqual(abs(Double(out[i]) - exact), Double(length + 2) * 0x1p-24 * magnitude,
                                                         "case \(index) isa \(isa) at \(i)")
                                XCTAssertLessThanOrEqual(abs(Double(out[i] - fp32[i])),
                                                         (2 * 0x1p-9 + Double(length + 2) * 0x1p-24) * magnitude + 1e-6,
                                                         "case \(index) isa \(isa) vs fp32 at \(i)")
                            }
                        }
                    }
                }
            }
        }
    }

    /// Scores from the rounded Q and K in float64; the probabilities rounded to bf16 as PV's operand move each
    /// output by at most 2⁻⁹ Σ p|v| ≤ 2⁻⁹ max|v|, plus the fp32 rounding of the scores and sums.
    func testAttentionMatchesFloat64OnRoundedOperands() {
        let cases = [(2, 3, 11, 13, 8, false), (1, 1, 64, 77, 16, true), (1, 2, 5, 1, 4, false)]
        let budget = AttentionKernel.scoreBudget
        defer { AttentionKernel.scoreBudget = budget }
        for (index, c) in cases.enumerated() {
            let (batch, heads, lq, lk, d, masked) = c
            if index == 1 { AttentionKernel.scoreBudget = 77 * 10 }  // several query chunks per head
            let width = heads * d
            let q = Float64Checks.randomTensor([batch, lq, width], seed: UInt64(80 + index))
            let k = Float64Checks.randomTensor([batch, lk, width], seed: UInt64(90 + index))
            let v = Float64Checks.randomTensor([batch, lk, width], seed: UInt64(100 + index))
            let maskValues: [Float] = (0..<(lq * lk)).map { masked && ($0 % lk) > ($0 / lk) ? -Float.infinity : 0 }
            let mask = masked ? Tensor(shape: [lq, lk], values: maskValues) : nil
            let rq = rounded(q), rk = rounded(k), rv = rounded(v)
            var exact = [Double](repeating: 0, count: batch * lq * width)
            var bound = [Double](repeating: 0, count: exact.count)
            let scale = 1 / Double(d).squareRoot()
            for b in 0..<batch {
                for h in 0..<heads {
                    for i in 0..<lq {
                        var scores = [Double](repeating: 0, count: lk)
                        for j in 0..<lk {
                            var s = 0.0
                            for t in 0..<d { s += Double(rq[(b * lq + i) * width + h * d + t]) * Double(rk[(b * lk + j) * width + h * d + t]) }
                            scores[j] = s * scale + Double(maskValues[i * lk + j])
                        }
                        let top = scores.max() ?? 0
                        let e = scores.map { Foundation.exp($0 - top) }
                        let sum = e.reduce(0, +)
                        for t in 0..<d {
                            var value = 0.0, largest = 0.0
                            for j in 0..<lk {
                                let x = Double(rv[(b * lk + j) * width + h * d + t])
                                value += e[j] / sum * x
                                largest = max(largest, abs(x))
                            }
                            let o = (b * lq + i) * width + h * d + t
                            exact[o] = value
                            // PV operand rounding, the scores' fp32 sums (d terms, |q|,|k| ≤ 1, through exp's
                            // relative sensitivity), the softmax and the PV sums (lk terms).
                            bound[o] = (0x1p-9 + Double(d + lk + 8) * 0x1p-24 * Double(d) * scale * 2 + Double(lk + 4) * 0x1p-24) * largest
                        }
                    }
                }
            }
            for isa in isas {
                tk_bf16_isa_set(isa)
                let out = attentionBF16(query: q, key: k, value: v, heads: heads, mask: mask).scalars
                for i in out.indices {
                    XCTAssertLessThanOrEqual(abs(Double(out[i]) - exact[i]), bound[i], "case \(index) isa \(isa) at \(i)")
                }
            }
        }
    }

    /// `auto` never picks bf16 without bf16 instructions, whatever a benchmark claims; with them, only when
    /// measured faster (no AMX tile kernel is built, so granted AMX alone does not pick it).
    func testAutomaticPrecisionDispatch() {
        let none = cpu_features_t()
        let fasterBF16 = PrecisionBenchmark(fp32Seconds: 1, bf16Seconds: 0.5)
        let slowerBF16 = PrecisionBenchmark(fp32Seconds: 1, bf16Seconds: 1.8)
        XCTAssertEqual(PrecisionSupport(features: none, amxGranted: nil, benchmark: fasterBF16).automatic, .fp32)
        XCTAssertEqual(PrecisionSupport(features: none, amxGranted: nil).fast, ["fp32"])
        XCTAssertEqual(PrecisionSupport(features: none, amxGranted: nil).available, ["fp32", "bf16"])
        var bf16 = cpu_features_t()
        bf16.avx512bf16 = 1
        XCTAssertEqual(PrecisionSupport(features: bf16, amxGranted: nil).automatic, .fp32, "no measurement: fp32")
        XCTAssertEqual(PrecisionSupport(features: bf16, amxGranted: nil, benchmark: slowerBF16).automatic, .fp32)
        XCTAssertEqual(PrecisionSupport(features: bf16, amxGranted: nil, benchmark: fasterBF16).automatic, .bf16)
        XCTAssertEqual(PrecisionSupport(features: bf16, amxGranted: nil, benchmark: fasterBF16).fast, ["fp32", "bf16"])
        XCTAssertEqual(PrecisionSupport(features: bf16, amxGranted: nil,
                                        benchmark: PrecisionBenchmark(fp32Seconds: 1, bf16Seconds: 0.95)).automatic,
                       .fp32, "within the 10% margin: fp32")
        var amx = bf16
        amx.amx_tile = 1
        amx.amx_bf16 = 1
        let granted = PrecisionSupport(features: amx, amxGranted: true, benchmark: slowerBF16)
        XCTAssertEqual(granted.bf16Hardware, .amx)
        XCTAssertFalse(granted.amxTileKernel, "no AMX tile kernel is built")
        XCTAssertEqual(granted.automatic, .fp32)
        XCTAssertTrue(granted.reason.contains("no AMX tile kernel"), granted.reason)
        XCTAssertEqual(tk_bf16_isa_choose(0, 1), Int32(TK_BF16_ISA_SCALAR), "no bf16 flags: the scalar fallback")
        XCTAssertEqual(PrecisionSetting.auto.resolved(automatic: .bf16), .bf16)
        XCTAssertEqual(PrecisionSetting.fp32.resolved(automatic: .bf16), .fp32)
        XCTAssertNil(PrecisionSetting(rawValue: "fp16"))
    }

    /// On this machine the start-up measurement runs in milliseconds and gives positive times.
    func testBenchmarkMeasuresBothPaths() {
        let result = PrecisionBenchmark.measure(rows: 64, features: 128, repeats: 1)
        XCTAssertGreaterThan(result.fp32Seconds, 0)
        XCTAssertGreaterThan(result.bf16Seconds, 0)
        XCTAssertLessThan(result.fp32Seconds + result.bf16Seconds, 1)
    }
}
