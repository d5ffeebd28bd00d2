/// Stable Diffusion XL refiner 1.0: an sgm checkpoint conditioned on OpenCLIP ViT-bigG alone
/// (`conditioner.embedders.0.model.*`, no CLIP-L), context = bigG's penultimate hidden state (1280), and the
/// added `text_time` embedding of the pooled projection with five time ids (original size, crop top-left,
/// aesthetic score). Otherwise SDXL's conventions.
public struct SDXLRefinerFamily: ModelFamily {
    public init() {}

    public var id: ModelFamilyID { .sdxlRefiner }

    /// Time ids per sample: original (h, w), crop (top, left), aesthetic score.
    public static let timeIDs = 5
    /// diffusers' `addition_embed_type` of SDXL UNets.
    public static let additionEmbedType = "text_time"

    public var conventions: SingleFileConventions { .stableDiffusionXL }

    static let textSites = (first: nil as LDMTextEncoderLayout.Site?, second: SDXLFamilySupport.bigG(embedder: 0))

    /// OpenCLIP at embedder 0 and no CLIP-L there.
    static func isRefiner(_ checkpoint: any TensorSource) -> Bool {
        SDXLFamilySupport.hasTensors(under: "conditioner.embedders.0.model.", in: checkpoint)
            && !SDXLFamilySupport.hasTensors(under: "conditioner.embedders.0.transformer.", in: checkpoint)
    }

    /// model_index.json's `requires_aesthetics_score` when it says; else the time ids the UNet's added
    /// embedding takes (projection_class_embeddings_input_dim = pooled + ids × addition_time_embed_dim);
    /// else a bigG-only folder (no `text_encoder`).
    static func isRefiner(folder: DiffusersFolderSummary) -> Bool {
        guard folder.unetAdditionEmbedType == additionEmbedType else { return false }
        if let requires = folder.requiresAestheticsScore { return requires }
        if let input = folder.unetProjectionClassEmbeddingsInputDim, let time = folder.unetAdditionTimeEmbedDim,
           let pooled = folder.textEncoder2ProjectionDim, time > 0 {
            return input - pooled == timeIDs * time
        }
        return folder.hasTextEncoder2 && folder.textEncoderHiddenAct == nil
    }

    public func recognises(singleFile checkpoint: any TensorSource) -> Bool { Self.isRefiner(checkpoint) }

    public func recognises(folder: DiffusersFolderSummary) -> Bool { Self.isRefiner(folder: folder) }

    public func architecture(of checkpoint: any TensorSource, conventions: SingleFileConventions) throws
        -> SingleFileArchitecture
    {
        try SDXLFamilySupport.architecture(of: checkpoint, family: id, conventions: conventions,
                                           textSites: Self.textSites, timeIDs: Self.timeIDs)
    }

    public func diffusersView(of component: SingleFileComponent, in checkpoint: any TensorSource) throws
        -> MappedTensorSource
    {
        switch component {
        case .unet: return try SDXLFamilySupport.unetView(of: checkpoint)
        case .vae: return try LDMToDiffusers.vae(checkpoint)
        case .textEncoder:
            throw NameMappingError.componentNotFound(component: component.rawValue,
                                                     prefix: SDXLFamilySupport.clipL.strictPrefix)
        case .textEncoder2:
            return try SDXLFamilySupport.textView(at: Self.textSites.second, of: checkpoint, familySites: [Self.textSites.second])
        }
    }

    public var singleFileComponents: [SingleFileComponent] { [.unet, .vae, .textEncoder2] }

    /// Its only tokenizer is bigG's, which pads with "!".
    public var tokenizer: TokenizerStyle { .openCLIP }

    public func tokenizer(for encoder: SingleFileComponent) -> TokenizerStyle { .openCLIP }

    /// sd_xl_refiner.yaml has no `parameterization`: epsilon.
    public func defaultParameterisation(globalStep: Double?, unetInChannels: Int) -> Parameterisation { .epsilon }

    public var defaultImageSize: Int { 1024 }
}

extension ModelFamilyID {
    public static let sdxlRefiner = ModelFamilyID(rawValue: "sdxl-refiner")
}
