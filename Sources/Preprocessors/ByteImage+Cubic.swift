extension ByteImage {
    /// cv2.INTER_CUBIC on uint8, as OpenCV computes it: per destination index the source position
    /// (d + 0.5) × scale − 0.5 in float, Keys' weights (a = −0.75) in float rounded to 11-bit fixed point, a
    /// horizontal integer pass with edge-clamped taps, then the vertical pass as OpenCV's SSE code does it: in
    /// float for blocks of 8 samples (the four products summed from the last tap back, rounded half to even,
    /// saturated), in fixed point for the remainder of the row.
    func cubicResized(width w: Int, height h: Int) -> ByteImage {
        let xTaps = Self.cubicTaps(source: width, destination: w)
        let yTaps = Self.cubicTaps(source: height, destination: h)
        let cn = channels, rowLength = w * cn
        // Horizontal pass: every source row, fixed point (weights × 2048).
        var horizontal = [Int32](repeating: 0, count: height * rowLength)
        for y in 0 ..< height {
            let row = y * width * cn
            for x in 0 ..< w {
                let (start, weights) = xTaps[x]
                for c in 0 ..< cn {
                    var sum: Int32 = 0
                    for k in 0 ..< 4 {
                        let sx = min(max(start + k, 0), width - 1)
                        sum += Int32(pixels[row + sx * cn + c]) * Int32(weights[k])
                    }
                    horizontal[y * rowLength + x * cn + c] = sum
                }
            }
        }
        let unit = Float(1) / Float(2048 * 2048)
        var out = ByteImage(zeros: w, height: h, channels: cn)
        for y in 0 ..< h {
            let (start, weights) = yTaps[y]
            let rows = (0 ..< 4).map { min(max(start + $0, 0), height - 1) * rowLength }
            let b = weights.map { Float($0) * unit }
            // OpenCV's SIMD loop takes blocks of 8 samples in float; the rest of the row goes through its scalar
            // fixed-point loop ((Σ h × w + 2^21) >> 22), which rounds differently in rare cases.
            let vectorized = rowLength / 8 * 8
            for i in 0 ..< vectorized {
                var sum = Float(horizontal[rows[3] + i]) * b[3]
                sum = Float(horizontal[rows[2] + i]) * b[2] + sum
                sum = Float(horizontal[rows[1] + i]) * b[1] + sum
                sum = Float(horizontal[rows[0] + i]) * b[0] + sum
                out.pixels[y * rowLength + i] = UInt8(min(max(sum.rounded(.toNearestOrEven), 0), 255))
            }
            for i in vectorized ..< rowLength {
                var sum = 0
                for k in 0 ..< 4 { sum += Int(horizontal[rows[k] + i]) * Int(weights[k]) }
                out.pixels[y * rowLength + i] = UInt8(min(max((sum + (1 << 21)) >> 22, 0), 255))
            }
        }
        return out
    }

    /// For each destination index: the first of the four source taps and their 11-bit weights.
    static func cubicTaps(source: Int, destination: Int) -> [(Int, [Int16])] {
        let scale = 1.0 / (Double(destination) / Double(source))
        return (0 ..< destination).map { d in
            var f = Float((Double(d) + 0.5) * scale - 0.5)
            let s = Int(f.rounded(.down))
            f -= Float(s)
            return (s - 1, cubicWeights(f).map { fixedPoint($0) })
        }
    }

    /// OpenCV's interpolateCubic, in float.
    static func cubicWeights(_ x: Float) -> [Float] {
        let a: Float = -0.75
        let w0 = ((a * (x + 1) - 5 * a) * (x + 1) + 8 * a) * (x + 1) - 4 * a
        let w1 = ((a + 2) * x - (a + 3)) * x * x + 1
        let w2 = ((a + 2) * (1 - x) - (a + 3)) * (1 - x) * (1 - x) + 1
        return [w0, w1, w2, 1 - w0 - w1 - w2]
    }

    /// saturate_cast<short>(w × 2048): rounded half to even, clamped to Int16.
    static func fixedPoint(_ weight: Float) -> Int16 {
        Int16(min(max((weight * 2048).rounded(.toNearestOrEven), -32768), 32767))
    }
}
