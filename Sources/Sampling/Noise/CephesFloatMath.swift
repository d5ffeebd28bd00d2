/// Single-precision log and sin/cos as PyTorch's AVX2 `normal_fill` computes them.
///
/// torch.randn on CPU (float32, >= 16 elements) runs Box-Muller through `log256_ps` and
/// `sincos256_ps` from `avx_mathfun.h` (Cephes polynomials), NOT through libm, on every x86
/// CPU with AVX2 (AVX-512 machines are routed to the AVX2 kernel for this op). The wheel is
/// compiled with FMA contraction, so some multiply-adds are fused. Which ones was determined
/// empirically against torch 2.15 over ~430k values (0 mismatches): the polynomial Horner
/// steps and the `y*z + e*q1` step of log are fused; the three-part range reduction of
/// sincos is NOT fused. Every other operation is a plain float op (Swift never contracts).
enum CephesFloatMath {
    /// Natural log for 0 < x <= 1 (the only range Box-Muller feeds it).
    static func log(_ input: Float) -> Float {
        let x0 = max(input, Float(bitPattern: 0x0080_0000))
        let bits = x0.bitPattern
        var e = Float(Int32(bitPattern: bits >> 23) - 0x7F) + 1
        // Mantissa scaled into [0.5, 1).
        var x = Float(bitPattern: (bits & ~UInt32(0x7F80_0000)) | Float(0.5).bitPattern)
        let sqrtHalf: Float = 0.707106781186547524
        let below = x < sqrtHalf
        let tmp: Float = below ? x : 0
        x = x - 1
        e = e - (below ? 1 : 0)
        x = x + tmp

        let z = x * x
        var y: Float = 7.0376836292E-2
        y = fused(y, x, -1.1514610310E-1)
        y = fused(y, x, 1.1676998740E-1)
        y = fused(y, x, -1.2420140846E-1)
        y = fused(y, x, 1.4249322787E-1)
        y = fused(y, x, -1.6668057665E-1)
        y = fused(y, x, 2.0000714765E-1)
        y = fused(y, x, -2.4999993993E-1)
        y = fused(y, x, 3.3333331174E-1)
        y = y * x
        y = fused(y, z, e * Float(-2.12194440e-4))
        y = fused(-z, 0.5, y)
        x = x + y
        x = fused(e, 0.693359375, x)
        return input <= 0 ? .nan : x
    }

    /// (sin, cos) of x >= 0 (Box-Muller angles lie in [0, 2*pi)).
    static func sincos(_ input: Float) -> (sin: Float, cos: Float) {
        let signSin = input.sign == .minus
        var x = abs(input)
        let fourOverPi: Float = 1.27323954473516
        var j = Int32(x * fourOverPi)  // truncation, as cvttps
        j = (j &+ 1) & ~1
        let y = Float(j)
        let swapSin = (j & 4) != 0
        let sinPolyIsSine = (j & 2) == 0
        let cosNegative = ((~(j &- 2)) & 4) != 0

        // Extended-precision reduction: three separate multiply/add pairs (not fused).
        x = x + y * Float(-0.78515625)
        x = x + y * Float(-2.4187564849853515625e-4)
        x = x + y * Float(-3.77489497744594108e-8)

        let z = x * x
        var c: Float = 2.443315711809948E-005
        c = fused(c, z, -1.388731625493765E-003)
        c = fused(c, z, 4.166664568298827E-002)
        c = c * z
        c = fused(c, z, -(z * 0.5))
        c = c + 1

        var s: Float = -1.9515295891E-4
        s = fused(s, z, 8.3321608736E-3)
        s = fused(s, z, -1.6666654611E-1)
        s = s * z
        s = fused(s, x, x)

        var sinV = sinPolyIsSine ? s : c
        var cosV = sinPolyIsSine ? c : s
        if signSin != swapSin { sinV = -sinV }
        if cosNegative { cosV = -cosV }
        return (sinV, cosV)
    }

    /// a*b + c with a single rounding.
    @inline(__always)
    private static func fused(_ a: Float, _ b: Float, _ c: Float) -> Float {
        c.addingProduct(a, b)
    }
}
