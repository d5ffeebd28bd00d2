/// One kind of Stable Diffusion model (SD 1.x, SD 2.x, …): everything that tells it apart and everything its
/// files leave unsaid, in one place. Each family lives in its own file (`SD1Family.swift`, `SD2Family.swift`)
/// and is listed in `ModelFamilies.all`; adding a family is one new file plus one line there.
///
/// A family answers four questions:
/// - recognition: is this single file (tensor names and shapes) or diffusers folder (its configs) mine?
/// - architecture: the diffusers configs a single file's tensors imply, with the hyper-parameters the
///   tensors do not record (head counts, norm groups, VAE scale) filled in from `SingleFileConventions`;
/// - name mapping: each component of a single file under diffusers names (the LDM tables are shared;
///   the family picks them and their options, e.g. SD2's penultimate OpenCLIP layer);
/// - conventions the pipeline needs: tokenizer special tokens, default prediction type.
///
/// Everything here reads names, shapes and config values only, never tensor data, so `models.list` can
/// ask it about files it does not load.
public protocol ModelFamily: Sendable {
    var id: ModelFamilyID { get }

    /// Whether a single-file checkpoint's tensors are this family's. Cheap (names and a few shapes) and
    /// tolerant: a malformed file may still be recognised, `architecture(of:conventions:)` then says what is wrong.
    func recognises(singleFile checkpoint: any TensorSource) -> Bool

    /// Whether a diffusers folder is this family's, from its component configs.
    func recognises(folder: DiffusersFolderSummary) -> Bool

    /// The architecture of a single file this family recognised. The UNet is required; the VAE and text
    /// encoder are reported when present (nil when absent; present but unrecognisable fails).
    func architecture(of checkpoint: any TensorSource, conventions: SingleFileConventions) throws
        -> SingleFileArchitecture

    /// One component of a single file under diffusers names, strictly (see `LDMToDiffusers`).
    func diffusersView(of component: SingleFileComponent, in checkpoint: any TensorSource) throws
        -> MappedTensorSource

    /// The special tokens of the standard CLIP vocabulary this family's tokenizer uses (single files and
    /// folders without tokenizer files carry none).
    var tokenizer: TokenizerStyle { get }

    /// What the UNet predicts when neither the user, a scheduler config nor a sidecar LDM config says.
    /// `globalStep` is a .ckpt's top-level `global_step`, when it has one; `unetInChannels` tells depth (5) and
    /// inpainting (9) UNets from plain ones.
    func defaultParameterisation(globalStep: Double?, unetInChannels: Int) -> Parameterisation

    /// Hyper-parameters this family's single files do not record, with the family's own values.
    var conventions: SingleFileConventions { get }

    /// The networks a single file of this family holds (SD: unet, vae, text_encoder; the SDXL refiner has
    /// text_encoder_2 only), the components `diffusersView(of:in:)` answers for.
    var singleFileComponents: [SingleFileComponent] { get }

    /// The special tokens of the tokenizer feeding `encoder` (SDXL: CLIP-L pads with EOS, bigG with "!").
    func tokenizer(for encoder: SingleFileComponent) -> TokenizerStyle

    /// The image side the family was trained at, the default width and height of a request.
    var defaultImageSize: Int { get }
}

extension ModelFamily {
    public var singleFileComponents: [SingleFileComponent] { [.unet, .vae, .textEncoder] }
    /// One text encoder: its tokenizer is the family's.
    public func tokenizer(for encoder: SingleFileComponent) -> TokenizerStyle { tokenizer }
}

/// A family's stable name: what `models.list` reports and `CheckpointLayout.singleFile` records ("sd1").
/// A struct rather than an enum so a new family declares its identifier in its own file.
public struct ModelFamilyID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// The networks of a single-file SD checkpoint, by their diffusers folder names.
public enum SingleFileComponent: String, CaseIterable, Sendable {
    case unet, vae
    case textEncoder = "text_encoder"
    /// SDXL's OpenCLIP ViT-bigG (`CLIPTextModelWithProjection`).
    case textEncoder2 = "text_encoder_2"
}

/// Which special tokens a family's CLIP tokenizer registers over the standard vocabulary.
public enum TokenizerStyle: Equatable, Sendable {
    /// openai/clip-vit-large-patch14 (SD 1.x): pads with EOS.
    case openAICLIP
    /// OpenCLIP as stabilityai's SD 2.x tokenizer folders configure it: pads with "!" (id 0).
    case openCLIP
}

/// What a UNet was trained to predict, as LDM configs name it (`parameterization: "eps" | "v"`).
public enum Parameterisation: Equatable, Sendable {
    case epsilon
    case v
}

/// The config values of a diffusers folder that families are told apart by (Models decodes the configs).
public struct DiffusersFolderSummary: Equatable, Sendable {
    /// text_encoder/config.json `hidden_act`: "quick_gelu" for OpenAI CLIP, "gelu" for OpenCLIP; nil without one.
    public var textEncoderHiddenAct: String?
    /// unet/config.json `cross_attention_dim` (the first block's, when given per block).
    public var unetCrossAttentionDim: Int?
    /// unet/config.json `addition_embed_type` ("text_time" for SDXL).
    public var unetAdditionEmbedType: String?
    /// unet/config.json `projection_class_embeddings_input_dim` and `addition_time_embed_dim`.
    public var unetProjectionClassEmbeddingsInputDim: Int?
    public var unetAdditionTimeEmbedDim: Int?
    /// Whether the folder has a `text_encoder_2` (SDXL), and its config's `projection_dim`.
    public var hasTextEncoder2: Bool
    public var textEncoder2ProjectionDim: Int?
    /// model_index.json `requires_aesthetics_score` (SDXL refiner pipelines); nil when absent.
    public var requiresAestheticsScore: Bool?

    public init(textEncoderHiddenAct: String?, unetCrossAttentionDim: Int?, unetAdditionEmbedType: String? = nil,
                unetProjectionClassEmbeddingsInputDim: Int? = nil, unetAdditionTimeEmbedDim: Int? = nil,
                hasTextEncoder2: Bool = false, textEncoder2ProjectionDim: Int? = nil,
                requiresAestheticsScore: Bool? = nil) {
        self.textEncoderHiddenAct = textEncoderHiddenAct
        self.unetCrossAttentionDim = unetCrossAttentionDim
        self.unetAdditionEmbedType = unetAdditionEmbedType
        self.unetProjectionClassEmbeddingsInputDim = unetProjectionClassEmbeddingsInputDim
        self.unetAdditionTimeEmbedDim = unetAdditionTimeEmbedDim
        self.hasTextEncoder2 = hasTextEncoder2
        self.textEncoder2ProjectionDim = textEncoder2ProjectionDim
        self.requiresAestheticsScore = requiresAestheticsScore
    }
}
