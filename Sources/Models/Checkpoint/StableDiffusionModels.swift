import Foundation
import Sampling
import Weights

/// The three networks of a Stable Diffusion 1.x/2.x model, loaded once and shared by requests,
/// plus what the pipeline needs to drive them.
public struct StableDiffusionModels: Sendable {
    public let textEncoder: CLIPTextEncoder
    public let unet: UNet
    public let vae: VAE
    /// The training noise schedule and parameterisation (epsilon or v).
    public let scheduler: SchedulerConfig
    public let tokenizer: TokenizerFiles
    public let layout: CheckpointLayout

    public var predictionType: SchedulerConfig.PredictionType { scheduler.predictionType }
    /// A 9-channel inpainting UNet (latents + mask + masked-image latents are concatenated by the pipeline).
    public var isInpainting: Bool { unet.config.inChannels == 9 }
    /// Bytes of float32 parameters the three networks hold (what a resident-model budget should count).
    public var parameterBytes: Int {
        (textEncoder.parameterCount + unet.parameterCount + vae.parameterCount) * MemoryLayout<Float>.size
    }
    /// VAE latent scale (latents = scalingFactor × posterior sample).
    public var latentScale: Float { vae.config.scalingFactor }
}

/// Where the CLIP tokenizer's vocabulary comes from.
public enum TokenizerFiles: Equatable, Sendable {
    /// A diffusers folder's `tokenizer/` (vocab.json, merges.txt and its special-token files).
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
    /// nil takes the detected family's own (`ModelFamily.conventions`).
    public var conventions: SingleFileConventions?

    public init(predictionType: PredictionType? = nil, variant: String? = nil,
                conventions: SingleFileConventions? = nil) {
        self.predictionType = predictionType
        self.variant = variant
        self.conventions = conventions
    }
}
