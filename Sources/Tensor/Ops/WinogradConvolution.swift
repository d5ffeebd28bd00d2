import TensorKernels

/// 3x3, stride 1, padding 1 convolutions by Winograd's minimal filtering F(4x4, 3x3): 36 GEMMs of
/// [O, C] x [C, tiles] replace one GEMM of [O, 9C] x [9C, 16 tiles], four times fewer multiplies.
/// These convolutions are over half of a Stable Diffusion UNet's and nearly all of its VAE's work.
///
/// The transforms are exact in real arithmetic; in float32 they add rounding error of a few 1e-6
/// relative to the output's magnitude (measured against float64 convolution in `WinogradTests`),
/// well inside the 1e-4 the model parity tests allow.
///
/// The transformed weights ([36, O, C], four times the 3x3 weights) are made per call, not kept:
/// keeping them would quadruple the resident size of every 3x3 layer. Making them costs one pass
/// over the weights, small next to the GEMMs wherever `applies` says yes. Input tiles and products
/// go through bounded chunks of tile rows, so a VAE layer at 512x512 never holds its whole
/// transformed input.
public enum WinogradConvolution {
    /// Winograd needs at least this many 4x4 tiles over the batch: below it the per-call weight
    /// transform and the narrow GEMMs cost more than they save (measured with `tensor-bench winograd`:
    /// 2-2.6x faster at the UNet's 64x64 level, 1.6-2x at 32x32, slower at 16x16 and 8x8 with batch 2).
    /// A var so tests can force the Winograd path on tiny inputs and benchmarks can turn it off
    /// (`Int.max`) to compare.
    nonisolated(unsafe) public static var minimumTiles = 96

    /// Winograd needs at least this many input channels: with fewer (the UNet's 4-channel `conv_in`) the
    /// GEMMs are too thin for the transforms to pay off. A var so tests can force it.
    nonisolated(unsafe) public static var minimumChannels = 16

    /// Largest transformed weight tensor made per call, in floats (256 MB: a 1920 -> 640 UNet layer
    /// needs 44M floats). Bigger layers keep im2col.
    static let maximumTransformedWeights = 64 << 20

    /// Floats of transformed inputs and products per chunk of tile rows (48 MB).
    nonisolated(unsafe) static var chunkBudget = 12 << 20

    static func applies(_ g: ConvGeometry) -> Bool {
        guard g.kernelHeight == 3, g.kernelWidth == 3, g.stride == 1, g.padding == 1 else { return false }
        let tiles = g.batch * ((g.outHeight + 3) / 4) * ((g.outWidth + 3) / 4)
        return tiles >= minimumTiles && g.channels >= max(1, minimumChannels) && g.outChannels > 0
            && 36 * g.channels * g.outChannels <= maximumTransformedWeights
    }

    static func run(_ g: ConvGeometry, _ input: UnsafePointer<Float>, _ filters: UnsafePointer<Float>,
                    _ bias: UnsafePointer<Float>?, _ output: UnsafeMutablePointer<Float>) {
        let channels = g.channels, outChannels = g.outChannels
        let tilesY = (g.outHeight + 3) / 4, tilesX = (g.outWidth + 3) / 4
        let channelGrain = max(1, channels / (4 * ComputeConfig.threads))
        let outGrain = max(1, outChannels / (4 * ComputeConfig.threads))

        let weights = TensorStorage(uninitializedCount: 36 * outChannels * channels)
        let u = weights.pointer
        Parallel.forEachSlice(count: outChannels, grain: outGrain) { range in
            tk_wino43_weights(filters, outChannels, channels, range.lowerBound, range.upperBound, u)
        }

        let totalRows = g.batch * tilesY
        let floatsPerRow = 36 * (channels + outChannels) * tilesX
        let maxRows = max(1, min(totalRows, chunkBudget / max(1, floatsPerRow)))
        let chunks = (totalRows + maxRows - 1) / maxRows
        let rowsPerChunk = (totalRows + chunks - 1) / chunks  // equal chunks, no sliver at the end
        let capacity = rowsPerChunk * tilesX
        let transformed = TensorStorage(uninitializedCount: 36 * (channels + outChannels) * capacity)
        let v = transformed.pointer
        let m = transformed.pointer + 36 * channels * capacity

        var firstRow = 0
        while firstRow < totalRows {
            let rows = min(rowsPerChunk, totalRows - firstRow)
            let tiles = rows * tilesX
            Parallel.forEachSlice(count: channels, grain: channelGrain) { range in
                Scratch.withBuffer(count: tk_wino43_scratch_floats(tilesX)) { scratch in
                    tk_wino43_input(input, channels, g.height, g.width, tilesY, tilesX, firstRow, rows,
                                    range.lowerBound, range.upperBound, v, tiles, channels * tiles, scratch)
                }
            }
            Parallel.forEach(0..<36) { xi in
                Gemm.serial(transposeA: false, transposeB: false, m: outChannels, n: tiles, k: channels,
                            a: u + xi * outChannels * channels, lda: channels,
                            b: v + xi * channels * tiles, ldb: tiles,
                            c: m + xi * outChannels * tiles, ldc: tiles)
            }
            Parallel.forEachSlice(count: outChannels, grain: outGrain) { range in
                Scratch.withBuffer(count: tk_wino43_output_scratch_floats(tilesX)) { scratch in
                    tk_wino43_output(m, tiles, outChannels * tiles, tilesY, tilesX, firstRow, rows,
                                     range.lowerBound, range.upperBound, outChannels, g.outHeight, g.outWidth,
                                     bias, output, scratch)
                }
            }
            firstRow += rows
        }
        withExtendedLifetime((weights, transformed)) {}
    }
}
