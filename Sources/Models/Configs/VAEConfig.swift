/// diffusers' `vae/config.json` for `AutoencoderKL`; defaults as diffusers registers them, unknown keys ignored.
public struct VAEConfig: Codable, Equatable, Sendable {
    public var inChannels = 3
    public var outChannels = 3
    public var downBlockTypes = ["DownEncoderBlock2D"]
    public var upBlockTypes = ["UpDecoderBlock2D"]
    public var blockOutChannels = [64]
    public var layersPerBlock = 1
    public var actFn = "silu"
    public var latentChannels = 4
    public var normNumGroups = 32
    public var sampleSize: IntOrList = .single(32)
    /// Applied by the pipeline (latents × scaling_factor after encode, ÷ before decode), not by `VAE`.
    public var scalingFactor: Float = 0.18215
    public var shiftFactor: Float? = nil
    public var forceUpcast = true
    public var useQuantConv = true
    public var usePostQuantConv = true
    public var midBlockAddAttention = true

    public init() {}

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types"
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block", actFn = "act_fn"
        case latentChannels = "latent_channels", normNumGroups = "norm_num_groups", sampleSize = "sample_size"
        case scalingFactor = "scaling_factor", shiftFactor = "shift_factor", forceUpcast = "force_upcast"
        case useQuantConv = "use_quant_conv", usePostQuantConv = "use_post_quant_conv"
        case midBlockAddAttention = "mid_block_add_attention"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = VAEConfig()
        inChannels = try c.value(.inChannels, default: d.inChannels)
        outChannels = try c.value(.outChannels, default: d.outChannels)
        downBlockTypes = try c.value(.downBlockTypes, default: d.downBlockTypes)
        upBlockTypes = try c.value(.upBlockTypes, default: d.upBlockTypes)
        blockOutChannels = try c.value(.blockOutChannels, default: d.blockOutChannels)
        layersPerBlock = try c.value(.layersPerBlock, default: d.layersPerBlock)
        actFn = try c.value(.actFn, default: d.actFn)
        latentChannels = try c.value(.latentChannels, default: d.latentChannels)
        normNumGroups = try c.value(.normNumGroups, default: d.normNumGroups)
        sampleSize = try c.value(.sampleSize, default: d.sampleSize)
        scalingFactor = try c.value(.scalingFactor, default: d.scalingFactor)
        shiftFactor = try c.decodeIfPresent(Float.self, forKey: .shiftFactor)
        forceUpcast = try c.value(.forceUpcast, default: d.forceUpcast)
        useQuantConv = try c.value(.useQuantConv, default: d.useQuantConv)
        usePostQuantConv = try c.value(.usePostQuantConv, default: d.usePostQuantConv)
        midBlockAddAttention = try c.value(.midBlockAddAttention, default: d.midBlockAddAttention)
    }
}
