import Foundation

/// cv2.GaussianBlur(x.astype(float32), (0, 0), sigma) on an interleaved float image: kernel size
/// round(8σ + 1) | 1 (OpenCV's rule for float data), weights exp(−x²/2σ²) in float normalised in double,
/// BORDER_REFLECT_101, a horizontal pass summing the taps in order, then a vertical pass summing mirrored
/// pairs outwards from the centre (OpenCV's symmetric column filter). The sums are float32 like OpenCV's, in
/// a slightly different order for the small 5-tap row kernel, so values can differ from OpenCV's in the last
/// bit; the preprocessors threshold or truncate them, where that only matters on exact ties.
struct GaussianBlur {
    let weights: [Float]

    init(sigma: Double) {
        let n = Int((sigma * 8 + 1).rounded(.toNearestOrEven)) | 1
        let scale = -0.5 / (sigma * sigma)
        let raw = (0 ..< n).map { i -> Float in
            let x = Double(i) - Double(n - 1) * 0.5
            return Float((scale * x * x).exp)
        }
        var sum = 0.0
        for w in raw { sum += Double(w) }
        let inverse = 1 / sum
        weights = raw.map { Float(Double($0) * inverse) }
    }

    /// Blurs `values` (width × height × channels, interleaved).
    func apply(_ values: [Float], width: Int, height: Int, channels: Int) -> [Float] {
        let radius = weights.count / 2
        let xIndex = (-radius ..< width + radius).map { Self.reflect101($0, width) }
        let yIndex = (-radius ..< height + radius).map { Self.reflect101($0, height) }
        let rowLength = width * channels
        var rows = [Float](repeating: 0, count: values.count)
        for y in 0 ..< height {
            let base = y * rowLength
            for x in 0 ..< width {
                for c in 0 ..< channels {
                    var sum: Float = 0
                    for j in 0 ..< weights.count {
                        sum = sum + weights[j] * values[base + xIndex[x + j] * channels + c]
                    }
                    rows[base + x * channels + c] = sum
                }
            }
        }
        var out = [Float](repeating: 0, count: values.count)
        let centre = weights[radius]
        for y in 0 ..< height {
            let base = y * rowLength
            for i in 0 ..< rowLength {
                var sum = centre * rows[base + i]
                for j in stride(from: 1, through: radius, by: 1) {
                    let below = yIndex[y + radius + j] * rowLength, above = yIndex[y + radius - j] * rowLength
                    sum = sum + weights[radius + j] * (rows[below + i] + rows[above + i])
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

private extension Double {
    var exp: Double { Foundation.exp(self) }
}
