#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// 2-D convolution (cross-correlation, as PyTorch) of x [N, C, H, W] with weight [O, C, kh, kw],
/// the same stride and zero padding on both axes.
///
/// 1x1 stride-1 convolutions on large planes are a GEMM on the input as it lies in memory. Everything
/// else goes through im2col in bounded chunks of output rows, so the column buffer never exceeds a
/// few MB (a full im2col of the VAE's 512x512x128 3x3 conv would be 1.2 GB). Small planes (the
/// UNet's 8x8 and 4x4 levels) put several images side by side in one GEMM instead, so the large
/// weight matrix is packed once for all of them. 3x3 stride-1 convolutions on planes big enough to
/// pay for it use Winograd's minimal filtering instead (`WinogradConvolution`).
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
    precondition(x.rank == 4, "conv2d: input \(x.shape) must be [N, C, H, W]")
    precondition(weight.rank == 4 && weight.shape[1] == x.shape[1],
                 "conv2d: weight \(weight.shape) does not match input \(x.shape) (needs [O, \(x.shape[1]), kh, kw])")
    precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) / padding \(padding) invalid")
    let geometry = ConvGeometry(input: x.shape, weight: weight.shape, stride: stride, padding: padding)
    if let bias {
        precondition(bias.shape == [geometry.outChannels],
                     "conv2d: bias \(bias.shape) vs weight \(weight.shape)")
    }
    let result = Tensor(uninitializedShape: [geometry.batch, geometry.outChannels, geometry.outHeight, geometry.outWidth])
    let output = result.storage.pointer
    let input = UnsafePointer(x.storage.pointer)
    let filters = GemmOperand(weight.storage)
    let biasPointer = bias.map { UnsafePointer($0.storage.pointer) }
    if let variant = WinogradConvolution.variant(for: geometry) {
        WinogradConvolution.run(variant, geometry, input, weight.storage, biasPointer, output)
    } else if geometry.isPointwise && (geometry.batch == 1 || geometry.outPlane >= Conv2dKernels.smallPlane) {
        Conv2dKernels.pointwise(geometry, input, filters, biasPointer, output)
    } else if geometry.batch > 1 && geometry.outPlane < Conv2dKernels.smallPlane {
        Conv2dKernels.batchedColumns(geometry, input, filters, biasPointer, output)
    } else {
        Conv2dKernels.im2colChunked(geometry, input, filters, biasPointer, output)
    }
    withExtendedLifetime((x, weight, bias)) {}
    return result
}

struct ConvGeometry {
    let batch: Int, channels: Int, height: Int, width: Int
    let outChannels: Int, kernelHeight: Int, kernelWidth: Int
    let stride: Int, padding: Int
    let outHeight: Int, outWidth: Int

    init(input: [Int], weight: [Int], stride: Int, padding: Int) {
        batch = input[0]; channels = input[1]; height = input[2]; width = input[3]
        outChannels = weight[0]; kernelHeight = weight[2]; kernelWidth = weight[3]
        self.stride = stride; self.padding = padding
        let paddedHeight = height + 2 * padding - kernelHeight
        let paddedWidth = width + 2 * padding - kernelWidth
        precondition(paddedHeight >= 0 && paddedWidth >= 0,
                     "conv2d: kernel \(weight) larger than padded input \(input) (padding \(padding))")
        outHeight = paddedHeight / stride + 1
        outWidth = paddedWidth / stride + 1
    }

    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
    var patchSize: Int { channels * kernelHeight * kernelWidth }
    var outPlane: Int { outHeight * outWidth }
}

enum Conv2dKernels {
    /// Column-buffer budget per chunk, in floats (8 MB): big enough that each GEMM has several
    /// hundred columns (near peak), small enough to stay out of the way of the weights.
    /// (A var only so tests can force many small chunks.)
    nonisolated(unsafe) static var columnBudget = 2 << 20

    /// Output planes smaller than this (positions per image) are batched across images.
    static let smallPlane = 256

    static func pointwise(_ g: ConvGeometry, _ input: UnsafePointer<Float>, _ filters: GemmOperand,
                          _ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>) {
        let plane = g.height * g.width
        for n in 0..<g.batch {
            let out = output + n * g.outChannels * plane
            if let bias { Bias.fillPlanes(out, channels: g.outChannels, planeSize: plane, bias: bias) }
            Gemm.multiply(transposeA: false, transposeB: false, m: g.outChannels, n: plane, k: g.channels,
                          a: filters, lda: max(1, g.channels),
                          b: GemmOperand(input + n * g.channels * plane), ldb: max(1, plane),
                          beta: bias == nil ? 0 : 1, c: out, ldc: max(1, plane))
        }
    }

    static func im2colChunked(_ g: ConvGeometry, _ input: UnsafePointer<Float>, _ filters: GemmOperand,
                              _ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>) {
        if g.outPlane == 0 || g.batch == 0 || g.outChannels == 0 { return }
        let k = g.patchSize
        let maxRows = max(1, min(g.outHeight, columnBudget / max(1, k * g.outWidth)))
        let chunksPerImage = (g.outHeight + maxRows - 1) / maxRows
        // Equal chunks, so the last one is not a sliver that leaves a thread idle.
        let rowsPerChunk = (g.outHeight + chunksPerImage - 1) / chunksPerImage
        let tasks = g.batch * chunksPerImage
        let threads = ComputeConfig.threads
        let runChunk = { (task: Int, parallelGemm: Bool) in
            let n = task / chunksPerImage
            let firstRow = (task % chunksPerImage) * rowsPerChunk
            let rows = min(rowsPerChunk, g.outHeight - firstRow)
            let columns = rows * g.outWidth
            Scratch.withBuffer(count: k * columns) { buffer in
                im2col(g, input + n * g.channels * g.height * g.width, firstRow: firstRow, rows: rows, into: buffer)
                let out = output + n * g.outChannels * g.outPlane + firstRow * g.outWidth
                if let bias {
                    for o in 0..<g.outChannels {
                        (out + o * g.outPlane).update(repeating: bias[o], count: columns)
                    }
                }
                typealias Product = (Bool, Bool, Int, Int, Int, Float, GemmOperand, Int, GemmOperand, Int, Float,
                                     UnsafeMutablePointer<Float>, Int) -> Void
                let multiply: Product = parallelGemm ? Gemm.multiply : Gemm.serial
                multiply(false, false, g.outChannels, columns, k, 1, filters, max(1, k),
                         GemmOperand(buffer), columns, bias == nil ? 0 : 1, out, g.outPlane)
            }
        }
        if threads > 1 && tasks >= 2 * threads {
            // Enough chunks: each thread builds its own columns and runs its own GEMM.
            Parallel.forEach(0..<tasks) { runChunk($0, false) }
        } else {
            // Few chunks (small images, huge channel counts): split each GEMM across threads instead.
            for task in 0..<tasks { runChunk(task, true) }
        }
    }

    /// Small planes: the patch matrices of `group` images side by side ([K, group*plane]), one GEMM
    /// into a temporary [O, group*plane], then scattered to [N, O, plane] with the bias.
    static func batchedColumns(_ g: ConvGeometry, _ input: UnsafePointer<Float>, _ filters: GemmOperand,
                               _ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>) {
        if g.outPlane == 0 || g.outChannels == 0 { return }
        let k = g.patchSize
        let plane = g.outPlane
        let group = max(1, min(g.batch, columnBudget / max(1, k * plane)))
        var first = 0
        while first < g.batch {
            let images = min(group, g.batch - first)
            let columns = images * plane
            Scratch.withBuffer(count: (k + g.outChannels) * columns) { buffer in
                let product = buffer + k * columns
                Parallel.forEach(0..<images) { i in
                    im2col(g, input + (first + i) * g.channels * g.height * g.width, firstRow: 0, rows: g.outHeight,
                           into: buffer + i * plane, rowStride: columns)
                }
                Gemm.multiply(transposeA: false, transposeB: false, m: g.outChannels, n: columns, k: k,
                              a: filters, lda: max(1, k), b: GemmOperand(buffer), ldb: columns,
                              c: product, ldc: columns)
                Parallel.forEachSlice(count: images * g.outChannels, grain: max(1, 16384 / plane)) { range in
                    for index in range {
                        let i = index / g.outChannels, o = index % g.outChannels
                        let source = product + o * columns + i * plane
                        let target = output + ((first + i) * g.outChannels + o) * plane
                        let value = bias?[o] ?? 0
                        for p in 0..<plane { target[p] = source[p] + value }
                    }
                }
            }
            first += images
        }
    }

    /// Writes the [C*kh*kw, rows*Wo] patch matrix for output rows firstRow..<firstRow+rows of one
    /// image; consecutive patch rows are `rowStride` floats apart (default: packed).
    static func im2col(_ g: ConvGeometry, _ image: UnsafePointer<Float>, firstRow: Int, rows: Int,
                       into columns: UnsafeMutablePointer<Float>, rowStride: Int? = nil) {
        let width = rowStride ?? rows * g.outWidth
        var patchRow = 0
        for c in 0..<g.channels {
            let plane = image + c * g.height * g.width
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    let target = columns + patchRow * width
                    for r in 0..<rows {
                        let line = target + r * g.outWidth
                        let y = (firstRow + r) * g.stride - g.padding + ky
                        if y < 0 || y >= g.height {
                            line.update(repeating: 0, count: g.outWidth)
                            continue
                        }
                        let source = plane + y * g.width
                        if g.stride == 1 {
                            // x = ox - padding + kx: one contiguous run with zero edges.
                            let shift = kx - g.padding
                            let firstValid = max(0, -shift)
                            let lastValid = min(g.outWidth, g.width - shift)
                            if firstValid > 0 { line.update(repeating: 0, count: min(firstValid, g.outWidth)) }
                            if lastValid > firstValid {
                                (line + firstValid).update(from: source + firstValid + shift, count: lastValid - firstValid)
                            }
                            if lastValid < g.outWidth {
                                let start = max(lastValid, firstValid)
                                (line + start).update(repeating: 0, count: g.outWidth - start)
                            }
                        } else {
                            for ox in 0..<g.outWidth {
                                let x = ox * g.stride - g.padding + kx
                                line[ox] = (x >= 0 && x < g.width) ? source[x] : 0
                            }
                        }
                    }
                    patchRow += 1
                }
            }
        }
    }
}
