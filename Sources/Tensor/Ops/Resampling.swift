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
