import Foundation

/// Reproduces `torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed))`
/// bit for bit, and advances its state exactly as torch does from one draw to the next.
///
/// torch's CPU normal sampler has two paths, both reproduced here:
/// - fewer than 16 elements: one double-precision Box-Muller per pair, from 53-bit uniforms
///   built out of two 32-bit outputs; the second value of each pair is cached ON THE
///   GENERATOR and returned by the next scalar sample, even in a later `randn` call;
/// - 16 or more elements: fill with 24-bit float uniforms, transform in blocks of 16 with
///   pairs (i, i+8) through the Cephes float log/sincos; when the count is not a multiple
///   of 16, 16 fresh uniforms are drawn and the last 16 values are recomputed from them.
public final class TorchCPUGenerator: NoiseSource {
    public let seed: UInt64
    private var engine: MT19937
    /// torch's `next_double_normal_sample`, cleared by `manual_seed`.
    private var cachedNormal: Double?

    public init(seed: UInt64) {
        self.seed = seed
        engine = MT19937(seed: seed)
        cachedNormal = nil
    }

    public func normalValues(count: Int) -> [Float] {
        guard count > 0 else { return [] }
        if count < 16 {
            return (0..<count).map { _ in Float(scalarNormal()) }
        }
        var data = [Float](repeating: 0, count: count)
        for i in 0..<count { data[i] = uniformFloat() }
        data.withUnsafeMutableBufferPointer { buf in
            var start = 0
            while start + 16 <= count {
                Self.boxMuller16(buf, at: start)
                start += 16
            }
            if count % 16 != 0 {
                let tail = count - 16
                for i in 0..<16 { buf[tail + i] = uniformFloat() }
                Self.boxMuller16(buf, at: tail)
            }
        }
        return data
    }

    /// `at::uniform_real_distribution<float>(0, 1)`: 24 random bits scaled by 2^-24.
    private func uniformFloat() -> Float {
        Float(engine.next() & 0x00FF_FFFF) * 0x1p-24
    }

    /// `at::uniform_real_distribution<double>(0, 1)` on `random64()`: the first 32-bit
    /// output is the high word, the low 53 bits are kept.
    private func uniformDouble() -> Double {
        let hi = UInt64(engine.next())
        let lo = UInt64(engine.next())
        let bits = ((hi << 32) | lo) & ((1 << 53) - 1)
        return Double(bits) * 0x1p-53
    }

    /// `at::normal_distribution<double>` with mean 0, std 1.
    private func scalarNormal() -> Double {
        if let cached = cachedNormal {
            cachedNormal = nil
            return cached
        }
        let u1 = uniformDouble()
        let u2 = uniformDouble()
        let radius = (-2.0 * Foundation.log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        cachedNormal = radius * Foundation.sin(theta)
        return radius * Foundation.cos(theta)
    }

    private static func boxMuller16(_ data: UnsafeMutableBufferPointer<Float>, at start: Int) {
        let twoPi = Float(2.0 * Double.pi)
        for j in 0..<8 {
            let u1 = 1 - data[start + j]  // [0, 1) -> (0, 1] for the log
            let u2 = data[start + j + 8]
            let radius = (-2 * CephesFloatMath.log(u1)).squareRoot()
            let (s, c) = CephesFloatMath.sincos(twoPi * u2)
            data[start + j] = radius * c
            data[start + j + 8] = radius * s
        }
    }
}
