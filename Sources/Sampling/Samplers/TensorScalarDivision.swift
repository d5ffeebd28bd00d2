import Tensor

extension Tensor {
    /// Elementwise division by a float32 scalar. diffusers' schedulers divide (rather than
    /// multiply by a reciprocal); keeping that rounding matters where large terms cancel
    /// (the first steps of zero-terminal-SNR schedules, sigma ~ 4096).
    func divided(by divisor: Float) -> Tensor {
        var out = Tensor(uninitializedShape: shape)
        withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count { dst[i] = src[i] / divisor }
            }
        }
        return out
    }
}
