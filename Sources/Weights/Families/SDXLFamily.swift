/// Stable Diffusion XL base 1.0 (and its fine-tunes and 9-channel inpainting variant): an sgm checkpoint
/// conditioned on CLIP ViT-L (`conditioner.embedders.0.transformer.*`) and OpenCLIP ViT-bigG
/// (`conditioner.embedders.1.model.*`), context = both penultimate hidden states concatenated (768 + 1280),
/// plus the added `text_time` embedding of the pooled bigG projection and six time ids (original size, crop
/// top-left, target size). 64 channels per attention head, VAE scale 0.13025, epsilon prediction, 1024².
public struct SDXLFamily: ModelFamily {
    public init() {}

    public var id: ModelFamilyID { .sdxl }

    /// Time ids per sample: original (h, w), crop (top, left), target (h, w).
    public static let timeIDs = 6

    public var conventions: SingleFileConventions { .stableDiffusionXL }

    static let textSites = (first: SDXLFamilySupport.clipL as LDMTextEncoderLayout.Site?,
                            second: SDXLFamilySupport.bigG(embedder: 1))

    /// bigG at embedder 1, or CLIP-L at embedder 0 with an added embedding (SD has neither); an
    /// encoder-less file with `label_emb` is taken for the base, the common case.
    public func recognises(singleFile checkpoint: any TensorSource) -> Bool {
        if SDXLRefinerFamily.isRefiner(checkpoint) { return false }
        if SDXLFamilySupport.hasTensors(under: Self.textSites.second.strictPrefix, in: checkpoint) { return true }
        let hasAddedEmbedding = checkpoint.contains(LDMUNetLayout.prefix + "label_emb.0.0.weight")
        if SDXLFamilySupport.hasTensors(under: SDXLFamilySupport.clipL.strictPrefix, in: checkpoint) { return hasAddedEmbedding }
        return hasAddedEmbedding && !SDXLFamilySupport.hasTensors(under: "cond_stage_model.", in: checkpoint)
    }

    /// A `text_time` UNet that is not the refiner's (see `SDXLRefinerFamily.isRefiner(folder:)`).
    public func recognises(folder: DiffusersFolderSummary) -> Bool {
        folder.unetAdditionEmbedType == SDXLRefinerFamily.additionEmbedType && !SDXLRefinerFamily.isRefiner(folder: folder)
    }

    public func architecture(of checkpoint: any TensorSource, conventions: SingleFileConventions) throws
        -> SingleFileArchitecture
    {
        try SDXLFamilySupport.architecture(of: checkpoint, family: id, conventions: conventions,
                                           textSites: Self.textSites, timeIDs: Self.timeIDs)
    }

    public func diffusersView(of component: SingleFileComponent, in checkpoint: any TensorSource) throws
        -> MappedTensorSource
    {
        let sites = [SDXLFamilySupport.clipL, Self.textSites.second]
        switch component {
        case .unet: return try SDXLFamilySupport.unetView(of: checkpoint)
        case .vae: return try LDMToDiffusers.vae(checkpoint)
        case .textEncoder: return try SDXLFamilySupport.textView(at: SDXLFamilySupport.clipL, of: checkpoint, familySites: sites)
        case .textEncoder2: return try SDXLFamilySupport.textView(at: Self.textSites.second, of: checkpoint, familySites: sites)
        }
    }

    public var singleFileComponents: [SingleFileComponent] { [.unet, .vae, .textEncoder, .textEncoder2] }

    /// The first encoder's: CLIP-L pads with EOS (openai/clip-vit-large-patch14).
    public var tokenizer: TokenizerStyle { .openAICLIP }

    /// CLIP-L pads with EOS, bigG with "!" (stabilityai's tokenizer_2).
    public func tokenizer(for encoder: SingleFileComponent) -> TokenizerStyle {
        encoder == .textEncoder2 ? .openCLIP : .openAICLIP
    }

    /// sd_xl_base.yaml has no `parameterization`: epsilon. A sidecar `<name>.yaml` may say v.
    public func defaultParameterisation(globalStep: Double?, unetInChannels: Int) -> Parameterisation { .epsilon }

    public var defaultImageSize: Int { 1024 }
}

extension ModelFamilyID {
    public static let sdxl = ModelFamilyID(rawValue: "sdxl")
}
