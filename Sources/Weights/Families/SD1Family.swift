/// Stable Diffusion 1.x (1.4, 1.5, their fine-tunes and 9-channel inpainting variants): an LDM checkpoint
/// conditioned on OpenAI's CLIP ViT-L/14 (`cond_stage_model.transformer.*`), 768-wide context, 8 heads in
/// every UNet attention block (v1-inference.yaml `num_heads: 8`), epsilon prediction.
public struct SD1Family: ModelFamily {
    public init() {}

    public var id: ModelFamilyID { .sd1 }

    /// v1-inference.yaml's `num_heads`: the head count is fixed, whatever the block width.
    public static let attentionHeads = 8

    public var conventions: SingleFileConventions { .stableDiffusion }

    /// CLIP's text tower, or no text tower and a context other than SD2's 1024.
    public func recognises(singleFile checkpoint: any TensorSource) -> Bool {
        switch LDMFamilySupport.textEncoderKind(in: checkpoint) {
        case .clip: return true
        case .openCLIP: return false
        case nil: return LDMFamilySupport.unetContextWidth(in: checkpoint) != SD2Family.contextWidth
        }
    }

    /// Any text encoder but OpenCLIP's GELU one (CLIP uses quick_gelu); without one, the UNet's context.
    public func recognises(folder: DiffusersFolderSummary) -> Bool {
        if let act = folder.textEncoderHiddenAct { return act != SD2Family.textEncoderHiddenAct }
        return folder.unetCrossAttentionDim != SD2Family.contextWidth
    }

    public func architecture(of checkpoint: any TensorSource, conventions: SingleFileConventions) throws
        -> SingleFileArchitecture
    {
        try LDMFamilySupport.architecture(of: checkpoint, family: id, conventions: conventions, textDepth: textDepth) { channels in
            conventions.unetHeadCount(channels: channels) { _ in conventions.sd1AttentionHeads }
        }
    }

    public func diffusersView(of component: SingleFileComponent, in checkpoint: any TensorSource) throws
        -> MappedTensorSource
    {
        try LDMFamilySupport.diffusersView(of: component, in: checkpoint, textDepth: textDepth)
    }

    /// SD 1.x's 512×512.
    public var defaultImageSize: Int { 512 }

    public var tokenizer: TokenizerStyle { .openAICLIP }

    public func defaultParameterisation(globalStep: Double?, unetInChannels: Int) -> Parameterisation { .epsilon }

    /// SD1 conditions on CLIP's last layer (`last_hidden_state`): every stored layer is used.
    var textDepth: OpenCLIPDepth { .all }
}

extension ModelFamilyID {
    public static let sd1 = ModelFamilyID(rawValue: "sd1")
}
