/// Nearest-neighbour 2x upsampling of x [N, C, H, W] -> [N, C, 2H, 2W] (F.interpolate, scale 2, "nearest").
public func upsampleNearest2x(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "upsampleNearest2x: input \(x.shape) must be [N, C, H, W]")
    let planes = x.shape[0] * x.shape[1], height = x.shape[2], width = x.shape[3]
    let result = Tensor(uninitializedShape: [x.shape[0], x.shape[1], 2 * height, 2 * width])
    let input = UnsafePointer(x.storage.pointer)
    let output = result.storage.pointer
    Parallel.forEachSlice(count: planes * height, grain: max(1, Elementwise.grain / max(1, 4 * width))) { range in
        for row in range {
            let source = input + row * width
            let target = output + row * 4 * width
            for i in 0..<width {
                target[2 * i] = source[i]
                target[2 * i + 1] = source[i]
            }
            (target + 2 * width).update(from: target, count: 2 * width)
        }
    }
    withExtendedLifetime(x) {}
    return result
}

/// The one nearest-neighbour resize of x [N, C, H, W] -> [N, C, height, width], exactly
/// `F.interpolate(x, size: (height, width), mode: "nearest")` on the CPU: output index i reads input
/// min(floor(i · (in / out)), in - 1) with the scale computed in float32 as PyTorch does (so 5 -> 3 reads
/// 0, 1, 3). Integer up-factors and downscales go through here; an exact 2x takes `upsampleNearest2x`,
/// which gives the same values faster.
public func resizeNearest(_ x: Tensor, height: Int, width: Int) -> Tensor {
    precondition(x.rank == 4 && height > 0 && width > 0, "resizeNearest: input \(x.shape) must be [N, C, H, W], size positive")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    if height == 2 * h && width == 2 * w { return upsampleNearest2x(x) }
    let scaleY = Float(h) / Float(height), scaleX = Float(w) / Float(width)
    let rows = (0 ..< height).map { min(Int(Float($0) * scaleY), h - 1) }
    let columns = (0 ..< width).map { min(Int(Float($0) * scaleX), w - 1) }
    let result = Tensor(uninitializedShape: [n, c, height, width])
    let input = UnsafePointer(x.storage.pointer)
    let output = result.storage.pointer
    Parallel.forEachSlice(count: n * c * height, grain: max(1, Elementwise.grain / max(1, width))) { range in
        for outRow in range {
            let plane = outRow / height
            let source = input + (plane * h + rows[outRow % height]) * w
            let target = output + outRow * width
            for i in 0 ..< width { target[i] = source[columns[i]] }
        }
    }
    withExtendedLifetime(x) {}
    return result
}

/// The one bicubic resize of x [N, C, H, W] -> [N, C, height, width], exactly
/// `F.interpolate(x, size: (height, width), mode: "bicubic", align_corners: False)` on the CPU (no antialiasing,
/// so a downscale samples rather than averages, as diffusers' depth-map preparation gets it): output index i
/// reads around source (i + 0.5) · in/out − 0.5 with Keys' cubic (A = −0.75) over four taps clamped to the
/// edge. Separable: rows first, then columns, in float32 as PyTorch accumulates.
public func resizeBicubic(_ x: Tensor, height: Int, width: Int) -> Tensor {
    precondition(x.rank == 4 && height > 0 && width > 0, "resizeBicubic: input \(x.shape) must be [N, C, H, W], size positive")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let columns = BicubicTaps(input: w, output: width)
    let rows = BicubicTaps(input: h, output: height)
    let planes = n * c
    let result = Tensor(uninitializedShape: [n, c, height, width])
    let input = UnsafePointer(x.storage.pointer)
    let output = result.storage.pointer
    Parallel.forEachSlice(count: planes, grain: 1) { range in
        var horizontal = [Float](repeating: 0, count: h * width)
        for plane in range {
            let source = input + plane * h * w
            for y in 0 ..< h {
                for i in 0 ..< width {
                    let t = columns.taps[i]
                    var sum: Float = 0
                    for k in 0 ..< 4 { sum += source[y * w + t.index[k]] * t.weight[k] }
                    horizontal[y * width + i] = sum
                }
            }
            let target = output + plane * height * width
            for j in 0 ..< height {
                let t = rows.taps[j]
                for i in 0 ..< width {
                    var sum: Float = 0
                    for k in 0 ..< 4 { sum += horizontal[t.index[k] * width + i] * t.weight[k] }
                    target[j * width + i] = sum
                }
            }
        }
    }
    withExtendedLifetime(x) {}
    return result
}

/// The four source indices and weights of each output position of a bicubic resize along one axis.
struct BicubicTaps {
    struct Tap {
        var index: [Int]
        var weight: [Float]
    }

    let taps: [Tap]

    init(input: Int, output: Int) {
        // PyTorch's area_pixel_compute_scale for align_corners=False and an explicit size: in / out, in float.
        let scale = Float(input) / Float(output)
        taps = (0 ..< output).map { i in
            let source = (Float(i) + 0.5) * scale - 0.5
            let base = Int(source.rounded(.down))
            let t = source - Float(base)
            let a: Float = -0.75
            // Keys' cubic convolution at distances 1 + t, t, 1 − t, 2 − t (PyTorch's get_cubic_upsample_coefficients).
            func near(_ d: Float) -> Float { ((a + 2) * d - (a + 3)) * d * d + 1 }
            func far(_ d: Float) -> Float { ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
            let weights = [far(t + 1), near(t), near(1 - t), far(2 - t)]
            let indices = (-1 ... 2).map { min(max(base + $0, 0), input - 1) }
            return Tap(index: indices, weight: weights)
        }
    }
}
