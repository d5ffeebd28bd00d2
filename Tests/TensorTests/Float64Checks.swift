import Tensor

/// Shared by the tests that check kernels against float64 references computed in Swift.
enum Float64Checks {
    /// Uniform values in [-scale, scale) from a seeded xorshift (reproducible, no Foundation RNG).
    static func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
        }
        return Tensor(shape: shape, values: values)
    }

    /// max|actual - exact| / max|exact| (the absolute error when exact is all zeros).
    static func relativeError(_ actual: [Float], _ exact: [Double]) -> Double {
        var maxDiff = 0.0, maxRef = 0.0
        for (a, e) in zip(actual, exact) {
            maxDiff = max(maxDiff, abs(Double(a) - e))
            maxRef = max(maxRef, abs(e))
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef
    }
}
