import Models

/// The peak working memory of a tiled upscale beyond the network's weights, estimated from the network's widths
/// and the tile it runs on (tile + 2·tile_pad a side): one tile's activations dominate, since the output is
/// streamed to disk (the blended rows held are a few tile heights of the output width).
public enum UpscaleMemory {
    /// float32 values per pixel of the network's output resolution and output channel (RRDBNet: its 64-channel
    /// ×4 maps and the fused upsample-conv's workspace; SRVGGNetCompact: the 3·s² shuffled planes and the
    /// planar tile result), per architecture.
    public static func outputFactor(rrdb: Bool) -> Int { rrdb ? 2 : 6 }
    /// float32 values per trunk pixel and channel (the dense buffer, block inputs, Winograd tiles of each conv,
    /// buffers the tensor cache keeps for the next layer).
    public static func trunkFactor(rrdb: Bool) -> Int { rrdb ? 3 : 20 }

    public static func workingBytes(_ network: UpscalerFootprint, tile: Int, pad: Int) -> Int {
        let side = Double(tile + 2 * pad)
        let trunkSide = side / Double(max(1, network.inputMultiple))
        let trunkChannels = Double(network.features + 4 * network.growth)
        let trunk = trunkSide * trunkSide * trunkChannels * Double(trunkFactor(rrdb: network.isRRDB))
        let outputPixels = side * side * Double(network.scale * network.scale)
        let output = outputPixels * Double(network.isRRDB ? network.features : 3) * Double(outputFactor(rrdb: network.isRRDB))
        return ByteEstimate.clamped((trunk + output) * 4)
    }
}
