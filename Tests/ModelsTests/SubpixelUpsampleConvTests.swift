@testable import Models
import Tensor
import XCTest

/// The fused upsample+conv equals nearest-2× upsampling followed by the 3×3 convolution.
final class SubpixelUpsampleConvTests: XCTestCase {
    private func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed
        let count = shape.reduce(1, *)
        let values = (0..<count).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
        return Tensor(shape: shape, values: values)
    }

    func testMatchesUpsampleThenConvolve() {
        for (n, c, o, h, w) in [(2, 3, 5, 4, 7), (1, 8, 8, 1, 1), (1, 4, 2, 5, 2)] {
            let x = random([n, c, h, w], seed: 1)
            let weight = random([o, c, 3, 3], seed: 2)
            let bias = random([o], seed: 3)
            let expected = conv2d(upsampleNearest2x(x), weight: weight, bias: bias, stride: 1, padding: 1)
            let fused = SubpixelUpsampleConv(weight: weight, bias: bias)(x)
            // Only the order of float additions differs (kernel taps summed before multiplying): ≤ 1e-5 relative.
            assertMatches(fused, expected, tolerance: 1e-5, "subpixel upsample conv \([n, c, o, h, w])")
        }
    }
}
