import Foundation

/// cv2.GaussianBlur(x.astype(float32), (0, 0), sigma) on an interleaved float image, as OpenCV computes it:
/// kernel size round(8σ + 1) | 1 (its rule for float data); weights from getGaussianKernelBitExact (one half
/// of exp(−x²/2σ²) summed in double, the sum doubled plus the centre's 1, each weight × (1 / sum) rounded to
/// float); BORDER_REFLECT_101; a horizontal pass, then a vertical pass summing mirrored pairs outwards from the
/// centre (OpenCV's symmetric column filter), every step a fused multiply-add as in its SIMD loops.
///
/// The 5-tap row filter (σ 0.5) is OpenCV's small symmetric one, which sums the inner pair, the centre and the
/// outer pair in that order. With all that the blurs equal OpenCV's bit for bit (tested for σ 0.5, 5 and 6), so
/// the thresholds of scribble_xdog and the truncation of lineart_standard see the same floats.
struct GaussianBlur {
    let weights: [Float]

    init(sigma: Double) {
        let n = Int((sigma * 8 + 1).rounded(.toNearestOrEven)) | 1
        let half = (n - 1) / 2
        let scale = -0.125 / (sigma * sigma)  // x runs over even numbers 1 − n … n − 1: (2d)² × −1/8σ² = −d²/2σ²
        var values: [Double] = []
        var sum = 0.0
        for i in 0 ..< half {
            let x = Double(1 - n + 2 * i)
            let t = Foundation.exp(x * x * scale)
            values.append(t)
            sum += t
        }
        sum = sum * 2 + 1
        let inverse = 1 / sum
        var kernel = [Float](repeating: Float(inverse), count: n)
        for i in 0 ..< half {
            kernel[i] = Float(values[i] * inverse)
            kernel[n - 1 - i] = kernel[i]
        }
        weights = kernel
    }

    /// Blurs `values` (width × height × channels, interleaved).
    func apply(_ values: [Float], width: Int, height: Int, channels: Int) -> [Float] {
        let radius = weights.count / 2
        let xIndex = (-radius ..< width + radius).map { Self.reflect101($0, width) }
        let yIndex = (-radius ..< height + radius).map { Self.reflect101($0, height) }
        let rowLength = width * channels
        let centre = weights[radius]
        var rows = [Float](repeating: 0, count: values.count)
        for y in 0 ..< height {
            let base = y * rowLength
            for x in 0 ..< width {
                for c in 0 ..< channels {
                    func tap(_ j: Int) -> Float { values[base + xIndex[x + j] * channels + c] }
                    var sum: Float
                    if weights.count == 5 {
                        // OpenCV's small symmetric row filter: the inner pair, then the centre, then the outer pair.
                        sum = (tap(1) + tap(3)) * weights[1]
                        sum = sum.addingProduct(tap(2), centre)
                        sum = sum.addingProduct(tap(0) + tap(4), weights[0])
                    } else {
                        sum = 0
                        for j in 0 ..< weights.count { sum = sum.addingProduct(tap(j), weights[j]) }
                    }
                    rows[base + x * channels + c] = sum
                }
            }
        }
        var out = [Float](repeating: 0, count: values.count)
        for y in 0 ..< height {
            let base = y * rowLength
            for i in 0 ..< rowLength {
                var sum = centre * rows[base + i]
                for j in stride(from: 1, through: radius, by: 1) {
                    let below = yIndex[y + radius + j] * rowLength, above = yIndex[y + radius - j] * rowLength
                    sum = sum.addingProduct(rows[below + i] + rows[above + i], weights[radius + j])
                }
                out[base + i] = sum
            }
        }
        return out
    }

    /// OpenCV's BORDER_REFLECT_101 (…, 2, 1 | 0, 1, 2, …, n−1 | n−2, …).
    static func reflect101(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        var i = i
        while i < 0 || i >= n {
            if i < 0 { i = -i }
            if i >= n { i = 2 * n - 2 - i }
        }
        return i
    }
}
