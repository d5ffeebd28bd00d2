import TensorKernels

/// `conv2d` in bf16 compute: the input is narrowed to bf16 once, the patch matrix is gathered from that bf16 copy
/// straight into bf16 columns (one patch per output position, [positions, C·kh·kw]), and `tk_bf16_gemm_nt`
/// multiplies the bf16 weights [O, C·kh·kw] by it with fp32 accumulation, writing the NCHW output directly. The
/// bias is added in fp32. No Winograd here: its transforms would round again in bf16 (see README).
public func conv2dBF16(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
    precondition(x.rank == 4, "conv2dBF16: input \(x.shape) must be [N, C, H, W]")
    precondition(weight.rank == 4 && weight.shape[1] == x.shape[1] && weight.elementType == .bfloat16,
                 "conv2dBF16: weight \(weight.shape) \(weight.elementType) must be bf16 [O, \(x.shape[1]), kh, kw]")
    precondition(stride >= 1 && padding >= 0, "conv2dBF16: stride \(stride) / padding \(padding) invalid")
    let g = ConvGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
    if let bias { precondition(bias.shape == [g.outChannels], "conv2dBF16: bias \(bias.shape) vs weight \(weight.shape)") }
    let result = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
    guard result.count > 0 else { return result }
    let k = g.patchSize
    let input = bf16Weights(x).storage
    let image = UnsafePointer(input.address.assumingMemoryBound(to: UInt16.self))
    let w = UnsafePointer(weight.storage.address.assumingMemoryBound(to: UInt16.self))
    let output = result.storage.pointer
    let biasPointer = bias.map { UnsafePointer($0.storage.pointer) }
    // Chunks of output positions whose bf16 columns stay within the same budget as the fp32 im2col's.
    let chunk = max(1, min(g.outPlane, Conv2dKernels.columnBudget / max(1, k)))
    let columns = UnsafeMutablePointer<UInt16>.allocate(capacity: chunk * k)
    defer { columns.deallocate() }
    for n in 0..<g.batch {
        let plane = image + n * g.channels * g.height * g.width
        let out = output + n * g.outChannels * g.outPlane
        var first = 0
        while first < g.outPlane {
            let count = min(chunk, g.outPlane - first)
            Parallel.forEachSlice(count: count, grain: max(1, 4096 / max(1, k))) { range in
                for position in range {
                    BF16Columns.gather(g, plane, position: first + position, into: columns + position * k)
                }
            }
            // Threads take slices of output channels: each streams its weight rows against the shared columns.
            let start = first
            Parallel.forEachSlice(count: g.outChannels, grain: max(1, (1 << 16) / max(1, count * k))) { range in
                tk_bf16_gemm_nt(w + range.lowerBound * k, k, columns, k, out + range.lowerBound * g.outPlane + start,
                                g.outPlane, range.count, count, k)
                if let biasPointer {
                    for o in range {
                        let row = out + o * g.outPlane + start
                        for p in 0..<count { row[p] += biasPointer[o] }
                    }
                }
            }
            first += count
        }
    }
    withExtendedLifetime((input, weight, bias)) {}
    return result
}

enum BF16Columns {
    /// The patch of output `position` (row-major over the output plane) as C·kh·kw bf16 values in the weight's
    /// [C, kh, kw] order, zeros where the window leaves the padded image.
    static func gather(_ g: ConvGeometry, _ image: UnsafePointer<UInt16>, position: Int,
                       into patch: UnsafeMutablePointer<UInt16>) {
        let oy = position / g.outWidth, ox = position % g.outWidth
        var index = 0
        for c in 0..<g.channels {
            let channel = image + c * g.height * g.width
            for ky in 0..<g.kernelHeight {
                let y = oy * g.stride - g.padding + ky
                let rowValid = y >= 0 && y < g.height
                let line = channel + (rowValid ? y * g.width : 0)
                for kx in 0..<g.kernelWidth {
                    let xPosition = ox * g.stride - g.padding + kx
                    patch[index] = rowValid && xPosition >= 0 && xPosition < g.width ? line[xPosition] : 0
                    index += 1
                }
            }
        }
    }
}
