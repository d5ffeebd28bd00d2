import Models

/// The peak working memory of a tiled upscale beyond the network's weights, estimated from the network's widths
/// and the tile it runs on (tile + 2·tile_pad a side): one tile's activations dominate, since the output is
/// streamed to disk (the blended rows held are a few tile heights of the output width).
public enum UpscaleMemory {
    /// float32 values per pixel of the network's output resolution and feature channel (upsampled maps, the
    /// fused upsample-conv's workspace, the planar tile result).
    public static let outputFactor = 3
    /// float32 values per trunk pixel and channel (the dense buffer, block inputs, conv workspaces).
    public static let trunkFactor = 4

    public static func workingBytes(_ network: UpscalerFootprint, tile: Int, pad: Int) -> Int {
        let side = Double(tile + 2 * pad)
        let trunkSide = side / Double(max(1, network.inputMultiple))
        let trunkChannels = Double(network.features + 4 * network.growth)
        let trunk = trunkSide * trunkSide * trunkChannels * Double(trunkFactor)
        let outputPixels = side * side * Double(network.scale * network.scale)
        let output = outputPixels * Double(network.isRRDB ? network.features : 3) * Double(outputFactor)
        return ByteEstimate.clamped((trunk + output) * 4)
    }
}
