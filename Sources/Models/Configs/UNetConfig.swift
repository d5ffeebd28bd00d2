/// diffusers' `unet/config.json` for `UNet2DConditionModel`.
///
/// Missing keys take the defaults diffusers registers in `UNet2DConditionModel.__init__`; unknown keys
/// are ignored. `init()` gives those defaults, so single-file detection sets only what it infers.
/// Values the Swift UNet cannot honour are rejected by `UNet.init` with the field's name.
public struct UNetConfig: Codable, Equatable, Sendable {
    public var inChannels = 4
    public var outChannels = 4
    public var centerInputSample = false
    public var flipSinToCos = true
    public var freqShift: Float = 0
    public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var midBlockType: String? = "UNetMidBlock2DCrossAttn"
    public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var onlyCrossAttention = BoolOrList.single(false)
    public var blockOutChannels = [320, 640, 1280, 1280]
    public var layersPerBlock = IntOrList.single(2)
    public var downsamplePadding = 1
    public var midBlockScaleFactor: Float = 1
    public var actFn = "silu"
    public var normNumGroups: Int? = 32
    public var normEps: Float = 1e-5
    public var crossAttentionDim = IntOrList.single(1280)
    public var transformerLayersPerBlock = IntOrList.single(1)
    /// For historical reasons diffusers uses this as the number of heads when `num_attention_heads` is unset.
    public var attentionHeadDim = IntOrList.single(8)
    public var numAttentionHeads: IntOrList? = nil
    public var dualCrossAttention = false
    public var useLinearProjection = false
    public var classEmbedType: String? = nil
    public var additionEmbedType: String? = nil
    /// Channels of each time id's sinusoidal embedding (`add_time_proj`) for `addition_embed_type "text_time"`.
    public var additionTimeEmbedDim: Int? = nil
    /// Input width of `add_embedding.linear_1`: pooled text width + time ids × `addition_time_embed_dim`.
    public var projectionClassEmbeddingsInputDim: Int? = nil
    /// Per-layer transformer depths of the up blocks (diffusers' asymmetric UNets); the UNet refuses it.
    public var reverseTransformerLayersPerBlock: [[Int]]? = nil
    public var numClassEmbeds: Int? = nil
    public var upcastAttention = false
    public var resnetTimeScaleShift = "default"
    public var resnetSkipTimeAct = false
    public var resnetOutScaleFactor: Float = 1
    public var timeEmbeddingType = "positional"
    public var timeEmbeddingDim: Int? = nil
    public var timeEmbeddingActFn: String? = nil
    public var timestepPostAct: String? = nil
    public var timeCondProjDim: Int? = nil
    public var convInKernel = 3
    public var convOutKernel = 3
    public var encoderHidDim: Int? = nil
    public var encoderHidDimType: String? = nil
    public var attentionType = "default"
    public var classEmbeddingsConcat = false
    public var midBlockOnlyCrossAttention: Bool? = nil
    public var crossAttentionNorm: String? = nil
    public var sampleSize: IntOrList? = nil

    public init() {}

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels"
        case centerInputSample = "center_input_sample", flipSinToCos = "flip_sin_to_cos", freqShift = "freq_shift"
        case downBlockTypes = "down_block_types", midBlockType = "mid_block_type", upBlockTypes = "up_block_types"
        case onlyCrossAttention = "only_cross_attention", blockOutChannels = "block_out_channels"
        case layersPerBlock = "layers_per_block", downsamplePadding = "downsample_padding"
        case midBlockScaleFactor = "mid_block_scale_factor", actFn = "act_fn"
        case normNumGroups = "norm_num_groups", normEps = "norm_eps"
        case crossAttentionDim = "cross_attention_dim", transformerLayersPerBlock = "transformer_layers_per_block"
        case attentionHeadDim = "attention_head_dim", numAttentionHeads = "num_attention_heads"
        case dualCrossAttention = "dual_cross_attention", useLinearProjection = "use_linear_projection"
        case classEmbedType = "class_embed_type", additionEmbedType = "addition_embed_type"
        case additionTimeEmbedDim = "addition_time_embed_dim"
        case projectionClassEmbeddingsInputDim = "projection_class_embeddings_input_dim"
        case reverseTransformerLayersPerBlock = "reverse_transformer_layers_per_block"
        case numClassEmbeds = "num_class_embeds", upcastAttention = "upcast_attention"
        case resnetTimeScaleShift = "resnet_time_scale_shift", resnetSkipTimeAct = "resnet_skip_time_act"
        case resnetOutScaleFactor = "resnet_out_scale_factor", timeEmbeddingType = "time_embedding_type"
        case timeEmbeddingDim = "time_embedding_dim", timeEmbeddingActFn = "time_embedding_act_fn"
        case timestepPostAct = "timestep_post_act", timeCondProjDim = "time_cond_proj_dim"
        case convInKernel = "conv_in_kernel", convOutKernel = "conv_out_kernel"
        case encoderHidDim = "encoder_hid_dim", encoderHidDimType = "encoder_hid_dim_type"
        case attentionType = "attention_type", classEmbeddingsConcat = "class_embeddings_concat"
        case midBlockOnlyCrossAttention = "mid_block_only_cross_attention"
        case crossAttentionNorm = "cross_attention_norm", sampleSize = "sample_size"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = UNetConfig()
        inChannels = try c.value(.inChannels, default: d.inChannels)
        outChannels = try c.value(.outChannels, default: d.outChannels)
        centerInputSample = try c.value(.centerInputSample, default: d.centerInputSample)
        flipSinToCos = try c.value(.flipSinToCos, default: d.flipSinToCos)
        freqShift = try c.value(.freqShift, default: d.freqShift)
        downBlockTypes = try c.value(.downBlockTypes, default: d.downBlockTypes)
        // An explicit null means "no mid block", which differs from a missing key.
        midBlockType = c.contains(.midBlockType) ? try c.decodeIfPresent(String.self, forKey: .midBlockType) : d.midBlockType
        upBlockTypes = try c.value(.upBlockTypes, default: d.upBlockTypes)
        onlyCrossAttention = try c.value(.onlyCrossAttention, default: d.onlyCrossAttention)
        blockOutChannels = try c.value(.blockOutChannels, default: d.blockOutChannels)
        layersPerBlock = try c.value(.layersPerBlock, default: d.layersPerBlock)
        downsamplePadding = try c.value(.downsamplePadding, default: d.downsamplePadding)
        midBlockScaleFactor = try c.value(.midBlockScaleFactor, default: d.midBlockScaleFactor)
        actFn = try c.value(.actFn, default: d.actFn)
        normNumGroups = c.contains(.normNumGroups) ? try c.decodeIfPresent(Int.self, forKey: .normNumGroups) : d.normNumGroups
        normEps = try c.value(.normEps, default: d.normEps)
        crossAttentionDim = try c.value(.crossAttentionDim, default: d.crossAttentionDim)
        transformerLayersPerBlock = try c.value(.transformerLayersPerBlock, default: d.transformerLayersPerBlock)
        attentionHeadDim = try c.value(.attentionHeadDim, default: d.attentionHeadDim)
        numAttentionHeads = try c.decodeIfPresent(IntOrList.self, forKey: .numAttentionHeads)
        dualCrossAttention = try c.value(.dualCrossAttention, default: d.dualCrossAttention)
        useLinearProjection = try c.value(.useLinearProjection, default: d.useLinearProjection)
        classEmbedType = try c.decodeIfPresent(String.self, forKey: .classEmbedType)
        additionEmbedType = try c.decodeIfPresent(String.self, forKey: .additionEmbedType)
        additionTimeEmbedDim = try c.decodeIfPresent(Int.self, forKey: .additionTimeEmbedDim)
        projectionClassEmbeddingsInputDim = try c.decodeIfPresent(Int.self, forKey: .projectionClassEmbeddingsInputDim)
        reverseTransformerLayersPerBlock = try c.decodeIfPresent([[Int]].self, forKey: .reverseTransformerLayersPerBlock)
        numClassEmbeds = try c.decodeIfPresent(Int.self, forKey: .numClassEmbeds)
        upcastAttention = try c.value(.upcastAttention, default: d.upcastAttention)
        resnetTimeScaleShift = try c.value(.resnetTimeScaleShift, default: d.resnetTimeScaleShift)
        resnetSkipTimeAct = try c.value(.resnetSkipTimeAct, default: d.resnetSkipTimeAct)
        resnetOutScaleFactor = try c.value(.resnetOutScaleFactor, default: d.resnetOutScaleFactor)
        timeEmbeddingType = try c.value(.timeEmbeddingType, default: d.timeEmbeddingType)
        timeEmbeddingDim = try c.decodeIfPresent(Int.self, forKey: .timeEmbeddingDim)
        timeEmbeddingActFn = try c.decodeIfPresent(String.self, forKey: .timeEmbeddingActFn)
        timestepPostAct = try c.decodeIfPresent(String.self, forKey: .timestepPostAct)
        timeCondProjDim = try c.decodeIfPresent(Int.self, forKey: .timeCondProjDim)
        convInKernel = try c.value(.convInKernel, default: d.convInKernel)
        convOutKernel = try c.value(.convOutKernel, default: d.convOutKernel)
        encoderHidDim = try c.decodeIfPresent(Int.self, forKey: .encoderHidDim)
        encoderHidDimType = try c.decodeIfPresent(String.self, forKey: .encoderHidDimType)
        attentionType = try c.value(.attentionType, default: d.attentionType)
        classEmbeddingsConcat = try c.value(.classEmbeddingsConcat, default: d.classEmbeddingsConcat)
        midBlockOnlyCrossAttention = try c.decodeIfPresent(Bool.self, forKey: .midBlockOnlyCrossAttention)
        crossAttentionNorm = try c.decodeIfPresent(String.self, forKey: .crossAttentionNorm)
        sampleSize = try c.decodeIfPresent(IntOrList.self, forKey: .sampleSize)
    }
}
