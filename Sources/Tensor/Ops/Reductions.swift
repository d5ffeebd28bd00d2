/// Vectorised sums used by the norms and softmax. Each block of up to 4096 floats is summed in
/// 16 float lanes, and blocks are combined in Double, so long reductions (a GroupNorm group of
/// 10^6 elements in the VAE) keep float32-rounding-level accuracy.
enum Reductions {
    static let block = 4096

    static func sum(_ p: UnsafePointer<Float>, _ count: Int) -> Double {
        var total: Double = 0
        var start = 0
        while start < count {
            let n = min(block, count - start)
            total += Double(blockSum(p + start, n) { $0 })
            start += n
        }
        return total
    }

    /// Sum of (x - mean)^2.
    static func squaredDeviation(_ p: UnsafePointer<Float>, _ count: Int, mean: Float) -> Double {
        var total: Double = 0
        var start = 0
        while start < count {
            let n = min(block, count - start)
            total += Double(blockSum(p + start, n) { v in
                let d = v - mean
                return d * d
            })
            start += n
        }
        return total
    }

    @inline(__always)
    static func blockSum(_ p: UnsafePointer<Float>, _ n: Int,
                         _ f: (SIMD16<Float>) -> SIMD16<Float>) -> Float {
        var acc = SIMD16<Float>()
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 16 <= n {
            acc += f(raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            i += 16
        }
        var tail: Float = 0
        while i < n {
            tail += f(SIMD16<Float>(repeating: p[i]))[0]
            i += 1
        }
        return acc.sum() + tail
    }

    static func max(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
        var acc = SIMD16<Float>(repeating: -.infinity)
        let raw = UnsafeRawPointer(p)
        var i = 0
        while i + 16 <= count {
            acc = pointwiseMax(acc, raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self))
            i += 16
        }
        var result = acc.max()
        while i < count {
            result = Swift.max(result, p[i])
            i += 1
        }
        return result
    }
}
