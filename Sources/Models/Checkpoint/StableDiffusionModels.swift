import Foundation
import Sampling
import Tensor
import Weights

/// The networks of a Stable Diffusion model (SD 1.x/2.x: one text encoder; SDXL: two, or the refiner's
/// one), loaded once and shared by requests, plus what the pipeline needs to drive them.
public struct StableDiffusionModels: Sendable {
    /// Every text encoder with its tokenizer, in slot order; never empty.
    public let textEncoders: [LoadedTextEncoder]
    public let unet: UNet
    public let vae: VAE
    /// The training noise schedule and parameterisation (epsilon or v).
    public let scheduler: SchedulerConfig
    public let layout: CheckpointLayout
    /// The pipeline options `model_index.json` registers (SDXL's zero negatives, aesthetic score).
    public let flags: PipelineFlags
    /// The model family its files were recognised as (`ModelFamilies`), nil when built by hand.
    public let family: ModelFamilyID?
    /// The tensors the UNet and text encoders were built from (shared with them), so adapters can build
    /// patched networks next to these without touching them; nil when built by hand.
    public let weights: NetworkWeights?

    /// One text encoder (SD 1.x/2.x).
    public init(textEncoder: CLIPTextEncoder, unet: UNet, vae: VAE, scheduler: SchedulerConfig,
                tokenizer: TokenizerFiles, layout: CheckpointLayout) {
        self.init(textEncoders: [LoadedTextEncoder(slot: .textEncoder, encoder: textEncoder, tokenizer: tokenizer)],
                  unet: unet, vae: vae, scheduler: scheduler, layout: layout, flags: .none)
    }

    /// `textEncoders` must not be empty (loaders refuse a model without one before building this).
    public init(textEncoders: [LoadedTextEncoder], unet: UNet, vae: VAE, scheduler: SchedulerConfig,
                layout: CheckpointLayout, flags: PipelineFlags, family: ModelFamilyID? = nil,
                weights: NetworkWeights? = nil) {
        precondition(!textEncoders.isEmpty, "a Stable Diffusion model has at least one text encoder")
        self.textEncoders = textEncoders
        self.unet = unet
        self.vae = vae
        self.scheduler = scheduler
        self.layout = layout
        self.flags = flags
        self.family = family
        self.weights = weights
    }

    /// The same model with other text encoders and UNet (adapter-patched ones) and the weights they were built
    /// from, everything else shared.
    public func replacing(textEncoders: [LoadedTextEncoder], unet: UNet, weights: NetworkWeights) -> StableDiffusionModels {
        StableDiffusionModels(textEncoders: textEncoders, unet: unet, vae: vae, scheduler: scheduler, layout: layout,
                              flags: flags, family: family, weights: weights)
    }

    /// The first text encoder: SD 1.x/2.x's only one, SDXL's CLIP-L (the refiner's bigG).
    public var textEncoder: CLIPTextEncoder { textEncoders[0].encoder }
    /// The first text encoder's tokenizer.
    public var tokenizer: TokenizerFiles { textEncoders[0].tokenizer }
    /// The encoder in `slot`, if the model has one there.
    public func textEncoder(_ slot: TextEncoderSlot) -> LoadedTextEncoder? {
        textEncoders.first { $0.slot == slot }
    }

    public var predictionType: SchedulerConfig.PredictionType { scheduler.predictionType }
    /// A 9-channel inpainting UNet (latents + mask + masked-image latents are concatenated by the pipeline).
    public var isInpainting: Bool { unet.config.inChannels == 9 }
    /// Bytes the networks' parameters occupy resident (what a resident-model budget should count): 4 per
    /// float32 value, 2 per value of weights kept in 16 bits (`WeightResidency`).
    public var parameterBytes: Int {
        textEncoders.reduce(0) { $0 + $1.encoder.residentBytes } + unet.residentBytes + vae.residentBytes
    }
    /// Bytes of the bf16 weight copies the bf16 path has made so far (included in `parameterBytes`).
    public var bf16PackBytes: Int {
        textEncoders.reduce(0) { $0 + $1.encoder.bf16PackBytes } + unet.bf16PackBytes + vae.bf16PackBytes
    }
    /// Bytes of the bf16 weight copies a bf16 job will still make (admission control adds them).
    public var bf16PendingBytes: Int {
        textEncoders.reduce(0) { $0 + $1.encoder.bf16PendingBytes } + unet.bf16PendingBytes + vae.bf16PendingBytes
    }

    /// The bf16 copy ledgers of the networks this model does not share with `base` (those a LoRA set rebuilt):
    /// the copies of their patched weights, counted with the variant; the copies of the others are the base's.
    public func bf16Ledgers(notSharedWith base: StableDiffusionModels) -> [BF16PackLedger] {
        let mine = textEncoders.map(\.encoder.bf16Packs) + [unet.bf16Packs, vae.bf16Packs]
        let theirs = base.textEncoders.map(\.encoder.bf16Packs) + [base.unet.bf16Packs, base.vae.bf16Packs]
        return mine.filter { ledger in !theirs.contains { $0 === ledger } }
    }
    /// VAE latent scale (latents = scalingFactor × posterior sample).
    public var latentScale: Float { vae.config.scalingFactor }
}

/// Where the CLIP tokenizer's vocabulary comes from.
public enum TokenizerFiles: Equatable, Sendable {
    /// A diffusers folder's `tokenizer/` or `tokenizer_2/` (vocab.json, merges.txt and its special-token files).
    case folder(path: String)
    /// Single-file checkpoints carry no vocabulary: CLIP's standard one shipped with the project, with the
    /// family's special tokens (`ModelFamily.tokenizer`: SD1 pads with EOS, SD2 with "!").
    case standard(CLIPSpecialTokens)

    /// Builds the tokenizer (parses vocabulary and merges; do it once per loaded model).
    public func load() throws -> CLIPTokenizer {
        switch self {
        case let .folder(path): return try CLIPTokenizer(folder: URL(fileURLWithPath: path))
        case let .standard(specialTokens): return try CLIPTokenizer.standard(specialTokens: specialTokens)
        }
    }
}

/// How a model is stored on disk.
public enum CheckpointLayout: Equatable, Sendable {
    case diffusersFolder(path: String)
    case singleFile(path: String, family: String)
}

/// Choices a user can make when loading that the files do not (reliably) say.
public struct CheckpointOptions: Equatable, Sendable {
    /// Overrides the prediction type. Without it, diffusers folders use their scheduler config; single files
    /// use a sidecar LDM config (`<name>.yaml`, its `parameterization`) when present, else their family's rule
    /// (`ModelFamily.defaultParameterisation`, see `PredictionRule`): SD1 epsilon and
    /// SD2 v-prediction unless the .ckpt's `global_step` is 875000 (SD2 512-base) — the same brittle rule
    /// as diffusers' single-file loader.
    public var predictionType: SchedulerConfig.PredictionType?
    /// A diffusers weights variant to prefer, e.g. "fp16" for `diffusion_pytorch_model.fp16.safetensors`.
    public var variant: String?
    /// Single files only: hyper-parameters their tensors do not record (head counts, norm groups, VAE scale);
    /// nil takes a sidecar `<name>.yaml`'s (`InferenceConfigSidecar`) over the detected family's own
    /// (`ModelFamily.conventions`).
    public var conventions: SingleFileConventions?

    public init(predictionType: PredictionType? = nil, variant: String? = nil,
                conventions: SingleFileConventions? = nil) {
        self.predictionType = predictionType
        self.variant = variant
        self.conventions = conventions
    }
}
