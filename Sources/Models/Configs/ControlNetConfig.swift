/// diffusers' `config.json` for `ControlNetModel`: the UNet encoder's fields (decoded as `UNetConfig`, with the
/// same defaults, which are also `ControlNetModel.__init__`'s) plus the hint block and the output options.
/// Unknown keys are ignored; values the Swift ControlNet cannot honour are rejected by `ControlNet.init`.
public struct ControlNetConfig: Codable, Equatable, Sendable {
    /// conv_in, time embedding, down and mid blocks: the UNet's encoder half.
    public var unet = UNetConfig()
    /// Channels of the control image (`conditioning_channels`; 3 for RGB hints).
    public var conditioningChannels = 3
    /// Widths of the hint block's levels (`conditioning_embedding_out_channels`).
    public var conditioningEmbeddingOutChannels = [16, 32, 96, 256]
    /// "rgb", or "bgr" for models trained on BGR hints (the image's channels are flipped first).
    public var conditioningChannelOrder = "rgb"
    /// Shuffle-type models: every residual is mean-pooled over its height and width.
    public var globalPoolConditions = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case conditioningChannels = "conditioning_channels"
        case conditioningEmbeddingOutChannels = "conditioning_embedding_out_channels"
        case conditioningChannelOrder = "controlnet_conditioning_channel_order"
        case globalPoolConditions = "global_pool_conditions"
    }

    public init(from decoder: Decoder) throws {
        unet = try UNetConfig(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ControlNetConfig()
        conditioningChannels = try c.value(.conditioningChannels, default: d.conditioningChannels)
        conditioningEmbeddingOutChannels = try c.value(.conditioningEmbeddingOutChannels,
                                                       default: d.conditioningEmbeddingOutChannels)
        conditioningChannelOrder = try c.value(.conditioningChannelOrder, default: d.conditioningChannelOrder)
        globalPoolConditions = try c.value(.globalPoolConditions, default: d.globalPoolConditions)
    }

    public func encode(to encoder: Encoder) throws {
        try unet.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(conditioningChannels, forKey: .conditioningChannels)
        try c.encode(conditioningEmbeddingOutChannels, forKey: .conditioningEmbeddingOutChannels)
        try c.encode(conditioningChannelOrder, forKey: .conditioningChannelOrder)
        try c.encode(globalPoolConditions, forKey: .globalPoolConditions)
    }
}
