extension ByteImage {
    /// cv2.INTER_AREA on uint8. Shrinking by whole factors on both axes averages blocks (2×2 rounds half up,
    /// as OpenCV's SIMD path; other factors sum × (1 / area) in float, rounded half to even); any other shrink
    /// uses OpenCV's area tables (float weights, float accumulation); enlarging on either axis is OpenCV's
    /// area-mode linear interpolation.
    func areaResized(width w: Int, height h: Int) -> ByteImage {
        let scaleX = 1.0 / (Double(w) / Double(width)), scaleY = 1.0 / (Double(h) / Double(height))
        guard scaleX >= 1, scaleY >= 1 else { return areaLinearResized(width: w, height: h) }
        let ix = Int(scaleX.rounded(.toNearestOrEven)), iy = Int(scaleY.rounded(.toNearestOrEven))
        if abs(scaleX - Double(ix)) < Double.ulpOfOne, abs(scaleY - Double(iy)) < Double.ulpOfOne {
            return blockAveraged(width: w, height: h, factorX: ix, factorY: iy)
        }
        return areaTableResized(width: w, height: h, scaleX: scaleX, scaleY: scaleY)
    }

    private func blockAveraged(width w: Int, height h: Int, factorX: Int, factorY: Int) -> ByteImage {
        let cn = channels, area = factorX * factorY
        let inverse = Float(1) / Float(area)
        var out = ByteImage(zeros: w, height: h, channels: cn)
        for y in 0 ..< h {
            for x in 0 ..< w {
                for c in 0 ..< cn {
                    var sum = 0
                    for dy in 0 ..< factorY {
                        for dx in 0 ..< factorX {
                            sum += Int(pixels[((y * factorY + dy) * width + x * factorX + dx) * cn + c])
                        }
                    }
                    let value = factorX == 2 && factorY == 2
                        ? (sum + 2) >> 2
                        : Int((Float(sum) * inverse).rounded(.toNearestOrEven))
                    out.pixels[(y * w + x) * cn + c] = UInt8(min(max(value, 0), 255))
                }
            }
        }
        return out
    }

    /// One source-to-destination contribution of OpenCV's computeResizeAreaTab.
    struct AreaWeight {
        var destination: Int
        var source: Int
        var weight: Float
    }

    static func areaTable(source: Int, destination: Int, scale: Double) -> [AreaWeight] {
        var table: [AreaWeight] = []
        for d in 0 ..< destination {
            let start = Double(d) * scale, end = start + scale
            let cell = min(scale, Double(source) - start)
            var first = Int(start.rounded(.up)), last = Int(end.rounded(.down))
            last = min(last, source - 1)
            first = min(first, last)
            if Double(first) - start > 1e-3 {
                table.append(AreaWeight(destination: d, source: first - 1, weight: Float((Double(first) - start) / cell)))
            }
            for s in first ..< max(first, last) {
                table.append(AreaWeight(destination: d, source: s, weight: Float(1.0 / cell)))
            }
            if end - Double(last) > 1e-3 {
                table.append(AreaWeight(destination: d, source: last,
                                        weight: Float(min(min(end - Double(last), 1), cell) / cell)))
            }
        }
        return table
    }

    private func areaTableResized(width w: Int, height h: Int, scaleX: Double, scaleY: Double) -> ByteImage {
        let cn = channels, rowLength = w * cn
        let xTable = Self.areaTable(source: width, destination: w, scale: scaleX)
        let yTable = Self.areaTable(source: height, destination: h, scale: scaleY)
        var out = ByteImage(zeros: w, height: h, channels: cn)
        var sum = [Float](repeating: 0, count: rowLength)
        var buffer = [Float](repeating: 0, count: rowLength)
        func flush(_ row: Int) {
            for i in 0 ..< rowLength {
                out.pixels[row * rowLength + i] = UInt8(min(max(sum[i].rounded(.toNearestOrEven), 0), 255))
            }
        }
        var previous = yTable.first?.destination ?? 0
        for entry in yTable {
            for i in 0 ..< rowLength { buffer[i] = 0 }
            let row = entry.source * width * cn
            for cx in xTable {
                for c in 0 ..< cn {
                    let i = cx.destination * cn + c
                    buffer[i] = buffer[i] + Float(pixels[row + cx.source * cn + c]) * cx.weight
                }
            }
            if entry.destination != previous {
                flush(previous)
                for i in 0 ..< rowLength { sum[i] = entry.weight * buffer[i] }
                previous = entry.destination
            } else {
                for i in 0 ..< rowLength { sum[i] += entry.weight * buffer[i] }
            }
        }
        flush(previous)
        return out
    }

    /// OpenCV's INTER_AREA when enlarging: linear taps at floor(d × scale) whose fraction is the part of the
    /// destination cell past the source boundary; 11-bit weights; horizontally the last taps clamp to the edge
    /// pixel at full weight; vertically OpenCV's SIMD arithmetic ((r >> 4) × w >> 16 per tap, then (sum + 2) >> 2).
    private func areaLinearResized(width w: Int, height h: Int) -> ByteImage {
        let cn = channels, rowLength = w * cn
        let xTaps = Self.areaLinearTaps(source: width, destination: w)
        let yTaps = Self.areaLinearTaps(source: height, destination: h)
        var horizontal = [Int32](repeating: 0, count: height * rowLength)
        for y in 0 ..< height {
            let row = y * width * cn
            for x in 0 ..< w {
                let (s, w0, w1) = xTaps[x]
                for c in 0 ..< cn {
                    let value: Int32
                    if s + 1 >= width {
                        value = Int32(pixels[row + min(s, width - 1) * cn + c]) * 2048
                    } else {
                        value = Int32(pixels[row + s * cn + c]) * Int32(w0) + Int32(pixels[row + (s + 1) * cn + c]) * Int32(w1)
                    }
                    horizontal[y * rowLength + x * cn + c] = value
                }
            }
        }
        var out = ByteImage(zeros: w, height: h, channels: cn)
        for y in 0 ..< h {
            let (s, b0, b1) = yTaps[y]
            let r0 = min(max(s, 0), height - 1) * rowLength, r1 = min(max(s + 1, 0), height - 1) * rowLength
            for i in 0 ..< rowLength {
                let a = Int32(Int16(clamping: horizontal[r0 + i] >> 4)), b = Int32(Int16(clamping: horizontal[r1 + i] >> 4))
                let v = ((a * Int32(b0)) >> 16) + ((b * Int32(b1)) >> 16)
                out.pixels[y * rowLength + i] = UInt8(min(max((v + 2) >> 2, 0), 255))
            }
        }
        return out
    }

    static func areaLinearTaps(source: Int, destination: Int) -> [(Int, Int16, Int16)] {
        let inverse = Double(destination) / Double(source), scale = 1.0 / inverse
        return (0 ..< destination).map { d in
            let s = Int((Double(d) * scale).rounded(.down))
            var f = Float(Double(d + 1) - Double(s + 1) * inverse)
            f = f <= 0 ? 0 : f - f.rounded(.down)
            return (s, fixedPoint(1 - f), fixedPoint(f))
        }
    }
}
