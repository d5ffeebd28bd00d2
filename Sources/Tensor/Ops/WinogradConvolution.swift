import TensorKernels

/// 3x3, stride 1, padding 1 convolutions by Winograd's minimal filtering: each output tile of m x m
/// positions costs (m + 2)² multiplies per channel pair instead of 9m², as (m + 2)² GEMMs of
/// [O, C] x [C, tiles]. These convolutions are over half of a Stable Diffusion UNet's work and nearly
/// all of its VAE's (and all of an ESRGAN's).
///
/// Two variants: F(4x4, 3x3) (4x fewer multiplies) where the plane gives enough 4x4 tiles, and
/// F(2x2, 3x3) (2.25x) where F(4x4)'s transformed weights would be over `maximumTransformedWeights` (its
/// weights are 16/9 of the originals, not 4x). The transforms are exact in real arithmetic; in float32
/// they add rounding error of a few 1e-6 relative to the output's magnitude (measured against float64 in
/// `WinogradTests`), well inside the 1e-4 the model parity tests allow.
///
/// The transformed weights ((m + 2)² x O x C) are made on first use in a job, not at load: keeping them
/// for good would multiply the resident size of every 3x3 layer by 16/9 or 4. Those of memory-mapped
/// checkpoints on planes with few tiles, where the transform costs most next to the GEMMs, are kept
/// until the job ends (`TransformedWeightCache`); the rest are made per call in a reused workspace.
/// Input tiles and products go through bounded chunks of tile rows, so a VAE layer at 512x512 never
/// holds its whole transformed input.
public enum WinogradConvolution {
    public enum Variant: Sendable {
        case f4x4
        case f2x2

        /// Output positions per tile side.
        var tile: Int { self == .f4x4 ? 4 : 2 }
        /// Transformed tile side (tile + kernel - 1); the number of GEMMs is its square.
        var alpha: Int { tile + 2 }
    }

    /// Each variant needs at least this many of its tiles over the batch: below it the per-call weight
    /// transform and the narrow GEMMs cost more than they save. Measured with `tensor-bench winograd`
    /// (SD 1.5 UNet shapes, batch 2): F(4x4) is 2.5-3.5x faster than im2col at 64x64 and 32x32 and 1.6x
    /// at 16x16 (32 tiles); F(2x2) is as fast there and 1.9x where F(4x4)'s weights are over the cap;
    /// at 8x8 neither beats im2col. Vars so tests can force Winograd on tiny inputs (1) and benchmarks
    /// can turn it off (`Int.max`).
    nonisolated(unsafe) public static var minimumTiles4x4 = 32
    nonisolated(unsafe) public static var minimumTiles2x2 = 96

    /// Winograd needs at least this many input channels: with fewer (the UNet's 4-channel `conv_in`) the
    /// GEMMs are too thin for the transforms to pay off. A var so tests can force it.
    nonisolated(unsafe) public static var minimumChannels = 16

    /// When set, this variant is used wherever Winograd applies at all (for tests and benchmarks).
    nonisolated(unsafe) public static var forcedVariant: Variant?

    /// Largest transformed weight tensor made per call, in floats (256 MB: a 1920 -> 640 UNet layer
    /// needs 44M floats with F(4x4)). Bigger layers try F(2x2), then keep im2col.
    static let maximumTransformedWeights = 64 << 20

    /// Floats of transformed inputs and products per chunk of tile rows (48 MB).
    nonisolated(unsafe) static var chunkBudget = 12 << 20

    static func variant(for g: ConvGeometry) -> Variant? {
        guard g.kernelHeight == 3, g.kernelWidth == 3, g.stride == 1, g.padding == 1,
              g.channels >= max(1, minimumChannels), g.outChannels > 0 else { return nil }
        let candidates: [Variant] = forcedVariant.map { [$0] } ?? [.f4x4, .f2x2]
        return candidates.first { variant in
            let tiles = g.batch * ((g.outHeight + variant.tile - 1) / variant.tile)
                * ((g.outWidth + variant.tile - 1) / variant.tile)
            let weights = variant.alpha * variant.alpha * g.channels * g.outChannels
            let minimum = variant == .f4x4 ? minimumTiles4x4 : minimumTiles2x2
            return tiles >= minimum && weights <= maximumTransformedWeights
        }
    }

    static func applies(_ g: ConvGeometry) -> Bool { variant(for: g) != nil }

    /// Upper bound of the transforms a network of 3x3 convolutions with `weightBytes` of weights keeps while a
    /// job runs on planes no smaller than `height` x `width` (for admission estimates): F(4x4)'s 36/9 of the
    /// weights within the per-network bound when such a plane has few enough tiles to be kept, else nothing.
    public static func keptTransformBytes(weightBytes: Int, height: Int, width: Int) -> Int {
        let tiles = ((max(1, height) + 3) / 4) * ((max(1, width) + 3) / 4)
        guard tiles <= TransformedWeightCache.maximumTiles else { return 0 }
        return min(TransformedWeightCache.capacityBytes, max(0, weightBytes) / 9 * 36)
    }

    static func run(_ variant: Variant, _ g: ConvGeometry, _ input: UnsafePointer<Float>,
                    _ weights: TensorStorage, _ bias: UnsafePointer<Float>?,
                    _ output: UnsafeMutablePointer<Float>) {
        let kernels = Kernels(variant)
        let channels = g.channels, outChannels = g.outChannels
        let products = variant.alpha * variant.alpha
        let tilesY = (g.outHeight + variant.tile - 1) / variant.tile
        let tilesX = (g.outWidth + variant.tile - 1) / variant.tile
        let channelGrain = max(1, channels / (4 * ComputeConfig.threads))
        let outGrain = max(1, outChannels / (4 * ComputeConfig.threads))

        let weightCount = products * outChannels * channels
        let totalRows = g.batch * tilesY
        let floatsPerRow = products * (channels + outChannels) * tilesX
        let maxRows = max(1, min(totalRows, chunkBudget / max(1, floatsPerRow)))
        let chunks = (totalRows + maxRows - 1) / maxRows
        let rowsPerChunk = (totalRows + chunks - 1) / chunks  // equal chunks, no sliver at the end
        let capacity = rowsPerChunk * tilesX
        let transformWeights = { (u: UnsafeMutablePointer<Float>) in
            Parallel.forEachSlice(count: outChannels, grain: outGrain) { range in
                transformFilters(weights, kernels, outChannels, channels, range, u)
            }
        }
        let kept = TransformedWeightCache.shared.transformed(
            of: weights, variant: variant, count: weightCount, tiles: totalRows * tilesX, transform: transformWeights)
        // Transformed weights (unless kept), then transformed inputs and products, in one reused buffer.
        let workspaceWeights = kept == nil ? weightCount : 0
        ReusableWorkspace.winograd.withBuffer(count: workspaceWeights + products * (channels + outChannels) * capacity) { workspace in
            let u = kept.map { UnsafeMutablePointer($0.pointer) } ?? workspace
            if kept == nil { transformWeights(u) }
            let v = workspace + workspaceWeights
            let m = v + products * channels * capacity
            var firstRow = 0
            while firstRow < totalRows {
                let rows = min(rowsPerChunk, totalRows - firstRow)
                let tiles = rows * tilesX
                Parallel.forEachSlice(count: channels, grain: channelGrain) { range in
                    Scratch.withBuffer(count: kernels.inputScratch(tilesX)) { scratch in
                        kernels.input(input, channels, g.height, g.width, tilesY, tilesX, firstRow, rows,
                                      range.lowerBound, range.upperBound, v, tiles, channels * tiles, scratch)
                    }
                }
                Parallel.forEach(0..<products) { xi in
                    Gemm.serial(transposeA: false, transposeB: false, m: outChannels, n: tiles, k: channels,
                                a: u + xi * outChannels * channels, lda: channels,
                                b: v + xi * channels * tiles, ldb: tiles,
                                c: m + xi * outChannels * tiles, ldc: tiles)
                }
                Parallel.forEachSlice(count: outChannels, grain: outGrain) { range in
                    Scratch.withBuffer(count: kernels.outputScratch(tilesX)) { scratch in
                        kernels.output(m, tiles, outChannels * tiles, tilesY, tilesX, firstRow, rows,
                                       range.lowerBound, range.upperBound, outChannels, g.outHeight, g.outWidth,
                                       bias, output, scratch)
                    }
                }
                firstRow += rows
            }
        }
    }

    /// Transforms the filters of output channels `range` into `u`. 16-bit resident filters are widened a
    /// few output channels at a time first (never the whole tensor); the transform then reads exactly the
    /// float32 values it would have read from float32 weights.
    private static func transformFilters(_ weights: TensorStorage, _ kernels: Kernels, _ outChannels: Int,
                                         _ channels: Int, _ range: Range<Int>, _ u: UnsafeMutablePointer<Float>) {
        guard let format = weights.elementType.kernelFormat else {
            kernels.weights(UnsafePointer(weights.pointer), outChannels, channels, range.lowerBound, range.upperBound, u)
            return
        }
        let perChannel = channels * 9
        let step = max(1, min(range.count, Gemm.widenedPanelFloats / max(1, perChannel)))
        Scratch.withPanel(count: step * perChannel) { panel in
            var first = range.lowerBound
            while first < range.upperBound {
                let rows = min(step, range.upperBound - first)
                tk_widen_block(UnsafeRawPointer(weights.address) + first * perChannel * 2, format, 1, rows * perChannel,
                               rows * perChannel, panel, rows * perChannel)
                // The kernel places output channel o at u + o * channels within each product's [O, C]
                // block, so local channels 0..<rows written from `u + first * channels` land where they belong.
                kernels.weights(UnsafePointer(panel), outChannels, channels, 0, rows, u + first * channels)
                first += rows
            }
        }
    }

    /// The C transforms of one variant.
    private struct Kernels {
        typealias Weights = (UnsafePointer<Float>?, Int, Int, Int, Int, UnsafeMutablePointer<Float>?) -> Void
        typealias Input = (UnsafePointer<Float>?, Int, Int, Int, Int, Int, Int, Int, Int, Int,
                           UnsafeMutablePointer<Float>?, Int, Int, UnsafeMutablePointer<Float>?) -> Void
        typealias Output = (UnsafePointer<Float>?, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int,
                            UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) -> Void
        let weights: Weights
        let input: Input
        let output: Output
        let inputScratch: (Int) -> Int
        let outputScratch: (Int) -> Int

        init(_ variant: Variant) {
            switch variant {
            case .f4x4:
                weights = tk_wino43_weights
                input = tk_wino43_input
                output = tk_wino43_output
                inputScratch = tk_wino43_scratch_floats
                outputScratch = tk_wino43_output_scratch_floats
            case .f2x2:
                weights = tk_wino23_weights
                input = tk_wino23_input
                output = tk_wino23_output
                inputScratch = tk_wino23_scratch_floats
                outputScratch = tk_wino23_output_scratch_floats
            }
        }
    }
}
