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
        // Source offsets of every tap, borders reflected once here instead of per sample.
        let xOffsets = (-radius ..< width + radius).map { Self.reflect101($0, width) * channels }
        let yOffsets = (-radius ..< height + radius).map { Self.reflect101($0, height) * width * channels }
        let rowLength = width * channels
        let k = weights, centre = weights[radius]
        var rows = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { src in
            rows.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< height {
                    let base = y * rowLength
                    for x in 0 ..< width {
                        for c in 0 ..< channels {
                            let at = base + c
                            var sum: Float
                            if k.count == 5 {
                                // OpenCV's small symmetric row filter: the inner pair, the centre, the outer pair.
                                sum = (src[at + xOffsets[x + 1]] + src[at + xOffsets[x + 3]]) * k[1]
                                sum = sum.addingProduct(src[at + xOffsets[x + 2]], centre)
                                sum = sum.addingProduct(src[at + xOffsets[x]] + src[at + xOffsets[x + 4]], k[0])
                            } else {
                                sum = 0
                                for j in 0 ..< k.count { sum = sum.addingProduct(src[at + xOffsets[x + j]], k[j]) }
                            }
                            dst[base + x * channels + c] = sum
                        }
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: values.count)
        rows.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0 ..< height {
                    let base = y * rowLength
                    for i in 0 ..< rowLength {
                        var sum = centre * src[base + i]
                        for j in stride(from: 1, through: radius, by: 1) {
                            let pair = src[yOffsets[y + radius + j] + i] + src[yOffsets[y + radius - j] + i]
                            sum = sum.addingProduct(pair, k[radius + j])
                        }
                        dst[base + i] = sum
                    }
                }
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
