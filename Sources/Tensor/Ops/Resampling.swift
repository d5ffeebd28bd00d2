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
