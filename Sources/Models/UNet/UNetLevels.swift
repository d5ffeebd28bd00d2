/// The per-level settings of a `UNet2DConditionModel`-style network resolved from its config once, with
/// diffusers' defaults and quirks applied and every value checked: what the UNet and a ControlNet (the
/// UNet's encoder half) are built from, so both read a config the same way.
struct UNetLevels {
    let channels: [Int]
    /// Attention heads per level (diffusers' naming quirk applied, see `init`).
    let heads: [Int]
    let layers: [Int]
    let transformerDepth: [Int]
    let contextDim: Int
    let groups: Int
    let eps: Float
    /// Width of the time embedding (`time_embedding_dim`, else 4 × the first level's channels).
    let timeDim: Int

    var count: Int { channels.count }

    init(_ config: UNetConfig) throws {
        let blockCount = config.downBlockTypes.count
        let channels = config.blockOutChannels
        guard channels.count == blockCount, blockCount > 0, blockCount <= 16 else {
            throw ModelLoadError.invalidConfig(
                "down_block_types (\(blockCount)) and block_out_channels (\(channels.count)) must have the same "
                + "length, 1 to 16")
        }
        // diffusers' naming quirk: without num_attention_heads, attention_head_dim is the number of heads
        // (its transformers then get channels / heads per head, whatever attention_head_dim says).
        let heads = try config.numAttentionHeads?.expanded(to: blockCount, field: "num_attention_heads")
            ?? config.attentionHeadDim.expanded(to: blockCount, field: "attention_head_dim")
        let layers = try config.layersPerBlock.expanded(to: blockCount, field: "layers_per_block")
        let crossDims = try config.crossAttentionDim.expanded(to: blockCount, field: "cross_attention_dim")
        let transformerDepth = try config.transformerLayersPerBlock.expanded(
            to: blockCount, field: "transformer_layers_per_block")
        guard Set(crossDims).count == 1, let contextDim = crossDims.first else {
            throw ModelLoadError.unsupportedConfig(field: "cross_attention_dim", value: "\(crossDims)")
        }
        guard let groups = config.normNumGroups else {
            throw ModelLoadError.unsupportedConfig(field: "norm_num_groups", value: "null")
        }
        try requirePositive(channels, "block_out_channels")
        try requirePositive(heads, config.numAttentionHeads == nil ? "attention_head_dim" : "num_attention_heads")
        try requirePositive(layers, "layers_per_block")
        try requirePositive(transformerDepth, "transformer_layers_per_block", allowZero: true)
        try requirePositive([contextDim], "cross_attention_dim")
        try requirePositive([groups], "norm_num_groups")
        try requirePositive([config.inChannels], "in_channels")
        try requirePositive([config.convInKernel], "conv_in_kernel")
        try requirePositive([config.timeEmbeddingDim ?? 1], "time_embedding_dim")
        self.channels = channels
        self.heads = heads
        self.layers = layers
        self.transformerDepth = transformerDepth
        self.contextDim = contextDim
        self.groups = groups
        eps = config.normEps
        timeDim = config.timeEmbeddingDim ?? channels[0] * 4
    }
}
