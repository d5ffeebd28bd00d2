import Imaging

/// What a conditioner encodes for one run.
public struct ConditioningRequest: Sendable, Equatable {
    public var prompt: String
    /// "" and a prompt left out are the same (A1111): an SDXL model with `force_zeros_for_empty_prompt`
    /// conditions the unconditional pass on zeros for it (see `SDXLConditioner`).
    public var negativePrompt: String
    /// 1 = last layer (see `GenerationRequest.clipSkip`).
    public var clipSkip: Int
    /// Images in the batch.
    public var batch: Int
    /// Whether classifier-free guidance runs the unconditional pass (the conditioning then leads with it).
    public var withUnconditional: Bool
    /// SDXL's second encoder's prompts (diffusers' `prompt_2` / `negative_prompt_2`); nil = the same text.
    public var prompt2: String?
    public var negativePrompt2: String?
    /// The output size, SDXL's default original and target size.
    public var outputSize: ImageSize
    public var micro: MicroConditioning
    /// img2img and inpaint (diffusers' image pipelines build their negative time ids differently).
    public var imageToImage: Bool
    /// The textual-inversion embeddings the prompts use (`PromptEmbeddings.resolve`).
    public var embeddings: PromptEmbeddings = .none

    public init(prompt: String, negativePrompt: String, clipSkip: Int, batch: Int, withUnconditional: Bool,
                prompt2: String? = nil, negativePrompt2: String? = nil,
                outputSize: ImageSize = ImageSize(width: GenerationDefaults.width, height: GenerationDefaults.height),
                micro: MicroConditioning = MicroConditioning(), imageToImage: Bool = false) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.clipSkip = clipSkip
        self.batch = batch
        self.withUnconditional = withUnconditional
        self.prompt2 = prompt2
        self.negativePrompt2 = negativePrompt2
        self.outputSize = outputSize
        self.micro = micro
        self.imageToImage = imageToImage
    }
}
