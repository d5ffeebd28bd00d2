import Models
import Tensor

/// The peak working memory of a tiled upscale beyond the network's weights, estimated from the network's widths
/// and the tile it runs on (tile + 2·tile_pad a side): one tile's activations dominate, since the output is
/// streamed to disk (the blended rows held are a few tile heights of the output width).
public enum UpscaleMemory {
    /// float32 values per pixel of the network's output resolution and output channel, per architecture
    /// (RRDBNet: its 64-channel ×4 maps — the upsampled activation, conv_hr's output, their Winograd tiles and
    /// the fused upsample-conv's workspace —, measured 4.6–5.7 at tiles 64–128 with pad; SRVGGNetCompact: the
    /// 3·s² shuffled planes and the planar tile result). `scripts/check_admission_estimate.py` measures both.
    public static func outputFactor(rrdb: Bool) -> Int { 6 }
    /// float32 values per trunk pixel and channel (the dense buffer, block inputs, Winograd tiles of each conv,
    /// buffers the tensor cache keeps for the next layer).
    public static func trunkFactor(rrdb: Bool) -> Int { rrdb ? 3 : 20 }

    /// - Parameter smallestSide: the smallest tile context the job runs (an edge tile's tile + pad, or the image
    ///   when it is smaller): the trunk's Winograd transforms are kept where its planes have few tiles
    ///   (RRDBNet at tile 32: 268 MB, more than the tile's activations). nil counts them as kept.
    public static func workingBytes(_ network: UpscalerFootprint, tile: Int, pad: Int, smallestSide: Int? = nil) -> Int {
        let side = Double(tile + 2 * pad)
        let multiple = max(1, network.inputMultiple)
        let trunkSide = side / Double(multiple)
        let trunkChannels = Double(network.features + 4 * network.growth)
        let trunk = trunkSide * trunkSide * trunkChannels * Double(trunkFactor(rrdb: network.isRRDB))
        let outputPixels = side * side * Double(network.scale * network.scale)
        let output = outputPixels * Double(network.isRRDB ? network.features : 3) * Double(outputFactor(rrdb: network.isRRDB))
        let smallestTrunk = max(1, (smallestSide ?? 1) / multiple)
        let transforms = WinogradConvolution.keptTransformBytes(weightBytes: network.weightBytes,
                                                                height: smallestTrunk, width: smallestTrunk)
        return ByteEstimate.clamped((trunk + output) * 4 + Double(transforms))
    }
}
