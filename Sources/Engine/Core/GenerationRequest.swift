import Models
import Sampling
import Tensor

/// Everything one txt2img/img2img run needs besides the model. Validated by `StableDiffusionPipeline`.
public struct GenerationRequest: Sendable {
    public var prompt: String
    public var negativePrompt: String = ""
    public var sampler: SamplerChoice = GenerationDefaults.sampler
    public var steps: Int = GenerationDefaults.steps
    public var cfgScale: Double = GenerationDefaults.cfgScale
    /// diffusers' `guidance_rescale` (0 = off).
    public var guidanceRescale: Double = GenerationDefaults.guidanceRescale
    /// 1 = last layer (no skip), 2 = penultimate (A1111's "Clip skip: 2").
    public var clipSkip: Int = GenerationDefaults.clipSkip
    /// Seed of the first image; image i uses seed + i (its own generator), as A1111 and diffusers with a
    /// list of generators.
    public var seed: UInt64 = 0
    public var rng: RNGKind = GenerationDefaults.rng
    public var batchSize: Int = GenerationDefaults.batchSize
    public var width: Int = GenerationDefaults.width
    public var height: Int = GenerationDefaults.height
    /// DDIM's eta.
    public var eta: Double = GenerationDefaults.eta
    /// img2img: the source image [1, 3, height, width] in [-1, 1] (already resized to width × height),
    /// and how much of the schedule to run (diffusers' `strength`).
    public var initImage: Tensor? = nil
    public var strength: Double = GenerationDefaults.img2imgStrength
    /// SDXL: the second text encoder's prompts (nil = `prompt` / `negativePrompt`) and the micro-conditioning
    /// time ids. Other families ignore them.
    /// Depth-to-image models (a UNet taking latents + 1 channel): the user's depth map [1, 1, H, W] at any size,
    /// any affine encoding (see `DepthMap`); required by such a model, refused by others.
    public var depthMap: Tensor? = nil
    /// T2I-Adapters (`adapters`), their pictures at the output size.
    public var adapters: [T2IAdapterControl] = []
    public var prompt2: String? = nil
    public var negativePrompt2: String? = nil
    public var micro = MicroConditioning()
    /// ControlNets steering the run (`control`); their residuals are summed. Empty: none.
    public var controls: [ControlNetInput] = []
    /// The textual-inversion embeddings the prompts use (`PromptEmbeddings.resolve`; none by default).
    public var embeddings: PromptEmbeddings = .none
    /// A1111 hypernetworks on the UNet's attentions (the base model's stages only; an SDXL refiner runs without).
    public var hypernetworks: HypernetworkStack = .none

    public init(prompt: String) {
        self.prompt = prompt
    }

    public var seeds: [UInt64] { Seeds.batch(from: seed, count: batchSize) }
}

/// What a finished run produced.
public struct GenerationResult {
    /// Final latents [N, 4, h, w] as diffusers' `output_type="latent"` (unscaled).
    public let latents: Tensor
    /// Decoded images [N, 3, H, W] in [0, 1] (diffusers' postprocess: (x / 2 + 0.5).clamp(0, 1)).
    public let images: Tensor
    /// The VAE's raw output [N, 3, H, W] (nominally [-1, 1]); `VipsImage(tensor:)` quantises it exactly as
    /// diffusers' postprocess + numpy_to_pil.
    public let decoded: Tensor
    public let seeds: [UInt64]
    /// Wall time of the UNet calls and of the whole sampling loop (for the loop-overhead benchmark).
    public let unetSeconds: Double
    public let loopSeconds: Double
}

/// Per-step report to the caller (progress, previews).
public struct PipelineStep {
    public let step: Int
    public let steps: Int
    /// The model's denoised estimate (unscaled latents, [N, 4, h, w]) — what previews show.
    public let denoised: Tensor
}
