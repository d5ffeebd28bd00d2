/// Vectorised transcendental functions for the activation and softmax hot loops. libm's expf is
/// scalar and costs ~10 ns; these run 16 lanes at a time with ~1-2 ulp error.
enum VectorMath {
    typealias Vector = SIMD16<Float>
    static let width = 16

    /// exp(x) by range reduction x = n*ln2 + r, |r| <= ln2/2, a degree-7 Taylor polynomial for
    /// e^r (truncation error < 6e-9) and an exponent-field scale by 2^n. Inputs are clamped to
    /// [-87.33, 88.37] so 2^n stays a normal float (results flush to ~1e-38 below, not 0).
    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let clamped = x.clamped(lowerBound: Vector(repeating: -87.33654), upperBound: Vector(repeating: 88.37626))
        // Adding 1.5*2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_040_888_963_4 + magic
        let n = shifted - magic
        // ln2 split in two so n*ln2_hi is exact.
        let r = clamped - n * 0.693_145_751_953_125 - n * 1.428_606_765_330_187_045e-06
        var p = Vector(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vector.self)
        return p * scale
    }

    /// Applies `f` to `count` floats 16 at a time; the tail goes through a padded vector.
    @inline(__always)
    static func apply(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int,
                      _ f: (Vector) -> Vector) {
        var i = 0
        let raw = UnsafeRawPointer(input)
        let rawOut = UnsafeMutableRawPointer(output)
        let stride = MemoryLayout<Float>.stride
        while i + width <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * stride, as: Vector.self)
            rawOut.storeBytes(of: f(v), toByteOffset: i * stride, as: Vector.self)
            i += width
        }
        if i < count {
            var v = Vector()
            for lane in 0..<(count - i) { v[lane] = input[i + lane] }
            let r = f(v)
            for lane in 0..<(count - i) { output[i + lane] = r[lane] }
        }
    }
}
