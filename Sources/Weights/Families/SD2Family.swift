/// Stable Diffusion 2.x (2.0/2.1, 512-base and 768-v, and the 9-channel inpainting model): an LDM checkpoint
/// conditioned on OpenCLIP ViT-H/14 (`cond_stage_model.model.*`, fused `attn.in_proj_*` cut into q/k/v by the
/// mapping), 1024-wide context, 64 channels per UNet attention head (v2-inference.yaml `num_head_channels: 64`),
/// linear transformer projections, and conditioning on the penultimate text layer.
public struct SD2Family: ModelFamily {
    public init() {}

    public var id: ModelFamilyID { .sd2 }

    /// v2-inference.yaml's `num_head_channels`: heads = block channels / 64.
    public static let attentionHeadDim = 64
    /// OpenCLIP ViT-H/14's width, SD2's cross-attention context.
    public static let contextWidth = 1024
    /// transformers' name of OpenCLIP's activation (OpenAI CLIP uses "quick_gelu").
    public static let textEncoderHiddenAct = "gelu"
    /// SD2 512-base's final training step; diffusers' single-file loader takes a .ckpt saved there for epsilon.
    public static let epsilonBaseGlobalStep: Double = 875_000

    public var conventions: SingleFileConventions { .stableDiffusion }

    /// The text encoder is the reliable witness (OpenCLIP); without one, SD2's 1024-wide context.
    public func recognises(singleFile checkpoint: any TensorSource) -> Bool {
        switch LDMFamilySupport.textEncoderKind(in: checkpoint) {
        case .openCLIP: return true
        case .clip: return false
        case nil: return LDMFamilySupport.unetContextWidth(in: checkpoint) == Self.contextWidth
        }
    }

    public func recognises(folder: DiffusersFolderSummary) -> Bool {
        if let act = folder.textEncoderHiddenAct { return act == Self.textEncoderHiddenAct }
        return folder.unetCrossAttentionDim == Self.contextWidth
    }

    public func architecture(of checkpoint: any TensorSource, conventions: SingleFileConventions) throws
        -> SingleFileArchitecture
    {
        try LDMFamilySupport.architecture(of: checkpoint, family: id, conventions: conventions, textDepth: textDepth) { channels in
            conventions.unetHeadCount(channels: channels) { $0 / max(conventions.sd2AttentionHeadDim, 1) }
        }
    }

    public func diffusersView(of component: SingleFileComponent, in checkpoint: any TensorSource) throws
        -> MappedTensorSource
    {
        try LDMFamilySupport.diffusersView(of: component, in: checkpoint, textDepth: textDepth)
    }

    /// SD 2.x 768-v's 768×768 (the family's default, v-prediction, model).
    public var defaultImageSize: Int { 768 }

    public var tokenizer: TokenizerStyle { .openCLIP }

    /// v-prediction (768-v), except a .ckpt saved at SD2-base's final step — the same brittle rule as
    /// diffusers' single-file loader — and the depth (5-channel) and inpainting (9-channel) UNets, which were
    /// trained from 512-base as epsilon models (512-depth-ema, 512-inpainting-ema; their LDM configs
    /// v2-midas-inference.yaml and v2-inpainting-inference.yaml set no `parameterization`), where diffusers'
    /// rule would guess v. A sidecar `<name>.yaml` or the user overrides it.
    public func defaultParameterisation(globalStep: Double?, unetInChannels: Int) -> Parameterisation {
        if unetInChannels != 4 { return .epsilon }
        return globalStep == Self.epsilonBaseGlobalStep ? .epsilon : .v
    }

    /// SD2 conditions on the penultimate OpenCLIP layer + ln_final, which diffusers expresses by shipping
    /// one layer less (see `OpenCLIPDepth`).
    var textDepth: OpenCLIPDepth { .penultimate }
}

extension ModelFamilyID {
    public static let sd2 = ModelFamilyID(rawValue: "sd2")
}
