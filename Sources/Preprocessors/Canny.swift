/// cv2.Canny(image, low, high) with its defaults (3×3 Sobel, L1 gradient) on an 8-bit image of 1 or 3
/// channels, reproducing OpenCV's integer algorithm: per pixel the channel with the largest |dx| + |dy| (the
/// first on ties), Sobel with replicated borders, non-maximum suppression in four directions with OpenCV's
/// tan 22.5° test and its strict/non-strict neighbour comparisons, a zero magnitude outside the image, and
/// 8-connected hysteresis from pixels above `high` through pixels above `low`. Returns a grey map, 255 on edges.
struct Canny {
    let low: Int
    let high: Int

    init(low: Int, high: Int) {
        // OpenCV swaps reversed thresholds.
        self.low = min(low, high)
        self.high = max(low, high)
    }

    func apply(to image: ByteImage) -> ByteImage {
        let w = image.width, h = image.height, cn = image.channels
        let stride = w + 2
        // Magnitude with a zero border; gradients of the strongest channel.
        var magnitude = [Int32](repeating: 0, count: stride * (h + 2))
        var gx = [Int32](repeating: 0, count: w * h), gy = [Int32](repeating: 0, count: w * h)
        image.pixels.withUnsafeBufferPointer { p in
            func at(_ x: Int, _ y: Int, _ c: Int) -> Int32 {
                Int32(p[(min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)) * cn + c])
            }
            for y in 0 ..< h {
                for x in 0 ..< w {
                    var best: Int32 = -1, bx: Int32 = 0, by: Int32 = 0
                    for c in 0 ..< cn {
                        let dx = (at(x + 1, y - 1, c) - at(x - 1, y - 1, c)) + 2 * (at(x + 1, y, c) - at(x - 1, y, c))
                            + (at(x + 1, y + 1, c) - at(x - 1, y + 1, c))
                        let dy = (at(x - 1, y + 1, c) + 2 * at(x, y + 1, c) + at(x + 1, y + 1, c))
                            - (at(x - 1, y - 1, c) + 2 * at(x, y - 1, c) + at(x + 1, y - 1, c))
                        let m = abs(dx) + abs(dy)
                        if m > best { best = m; bx = dx; by = dy }
                    }
                    magnitude[(y + 1) * stride + x + 1] = best
                    gx[y * w + x] = bx
                    gy[y * w + x] = by
                }
            }
        }
        // Map: 0 = may be an edge, 1 = not an edge, 2 = edge. The one-pixel frame is "not an edge".
        var map = [UInt8](repeating: 1, count: stride * (h + 2))
        var stack: [Int] = []
        let tg22: Int64 = 13573  // Int(tan(22.5°) × 2^15 + 0.5), OpenCV's TG22
        for y in 0 ..< h {
            for x in 0 ..< w {
                let i = (y + 1) * stride + x + 1
                let m = magnitude[i]
                guard m > low else { continue }
                let xs = gx[y * w + x], ys = gy[y * w + x]
                let ax = Int64(abs(xs)), ay = Int64(abs(ys)) << 15
                let tg22x = ax * tg22
                let isMaximum: Bool
                if ay < tg22x {
                    isMaximum = m > magnitude[i - 1] && m >= magnitude[i + 1]
                } else if ay > tg22x + (ax << 16) {
                    isMaximum = m > magnitude[i - stride] && m >= magnitude[i + stride]
                } else {
                    let s = (xs ^ ys) < 0 ? -1 : 1
                    isMaximum = m > magnitude[i - stride - s] && m > magnitude[i + stride + s]
                }
                guard isMaximum else { continue }
                if m > high {
                    map[i] = 2
                    stack.append(i)
                } else {
                    map[i] = 0
                }
            }
        }
        while let i = stack.popLast() {
            for n in [i - stride - 1, i - stride, i - stride + 1, i - 1, i + 1, i + stride - 1, i + stride, i + stride + 1]
            where map[n] == 0 {
                map[n] = 2
                stack.append(n)
            }
        }
        var out = ByteImage(zeros: w, height: h, channels: 1)
        for y in 0 ..< h {
            for x in 0 ..< w where map[(y + 1) * stride + x + 1] == 2 {
                out.pixels[y * w + x] = 255
            }
        }
        return out
    }
}
