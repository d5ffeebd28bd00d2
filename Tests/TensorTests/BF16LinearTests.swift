import TensorKernels
@testable import Tensor
import XCTest

/// `linearBF16` against float64 on the bf16-rounded operands (the bound of the fp32 accumulation), and against
/// fp32 `linear` (the bf16 rounding of both operands), on every bf16 path present and the scalar fallback.
final class BF16LinearTests: XCTestCase {
    override func tearDown() { tk_bf16_isa_set(-1) }

    func testMatchesFloat64OnRoundedOperandsAndStaysNearFP32() throws {
        let x = Float64Checks.randomTensor([2, 13, 77], seed: 11)
        let weight = Float64Checks.randomTensor([45, 77], seed: 12, scale: 0.2)
        let bias = Float64Checks.randomTensor([45], seed: 13)
        let packed = bf16Weights(weight)
        XCTAssertEqual(packed.storage.byteCount, weight.count * 2, "weights packed once at 2 bytes per value")
        let roundedX = bf16Weights(x).storage.widenedToFloat32(), roundedW = packed.storage.widenedToFloat32()
        let fp32 = linear(x, weight: weight, bias: bias).scalars

        var isas = [Int32(TK_BF16_ISA_SCALAR)]
        if PrecisionSupport.detect(requestAMX: false).cpuFlags.contains("avx512_bf16") { isas.append(Int32(TK_BF16_ISA_AVX512BF16)) }
        for isa in isas {
            tk_bf16_isa_set(isa)
            let y = linearBF16(x, weight: packed, bias: bias)
            XCTAssertEqual(y.shape, [2, 13, 45])
            let out = y.scalars
            let k = 77
            var worstRelative = 0.0
            for row in 0..<26 {
                for j in 0..<45 {
                    var exact = Double(bias.scalars[j]), magnitude = abs(Double(bias.scalars[j]))
                    for p in 0..<k {
                        let product = Double(roundedX.pointer[row * k + p]) * Double(roundedW.pointer[j * k + p])
                        exact += product
                        magnitude += abs(product)
                    }
                    // k products accumulated plus the bias add: k + 2 roundings of unit 2⁻²⁴ at most.
                    XCTAssertLessThanOrEqual(abs(Double(out[row * 45 + j]) - exact), Double(k + 2) * 0x1p-24 * magnitude,
                                             "isa \(isa) [\(row)][\(j)]")
                    worstRelative = max(worstRelative, abs(Double(out[row * 45 + j] - fp32[row * 45 + j])) / max(magnitude, 1e-30))
                }
            }
            // Each operand rounded to 8 significant bits moves a product by at most 2 · 2⁻⁹ relative.
            XCTAssertLessThanOrEqual(worstRelative, 2 * 0x1p-9 + Double(k + 2) * 0x1p-24, "isa \(isa) vs fp32")
            XCTAssertGreaterThan(worstRelative, 0, "bf16 must actually round")
        }
    }
}
