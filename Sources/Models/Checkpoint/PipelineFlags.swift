/// The pipeline options a model's `model_index.json` records that change how prompts become conditioning.
public struct PipelineFlags: Equatable, Sendable {
    /// SDXL: a negative prompt that is absent (not `""`) becomes zero embeddings, pooled included.
    public var forceZerosForEmptyPrompt: Bool
    /// SDXL refiner: the last time id is an aesthetic score instead of the target size.
    public var requiresAestheticsScore: Bool

    public init(forceZerosForEmptyPrompt: Bool = false, requiresAestheticsScore: Bool = false) {
        self.forceZerosForEmptyPrompt = forceZerosForEmptyPrompt
        self.requiresAestheticsScore = requiresAestheticsScore
    }

    /// SD 1.x/2.x pipelines have neither option.
    public static let none = PipelineFlags()
    /// What diffusers' SDXL pipelines register when `model_index.json` does not say.
    public static let sdxlDefaults = PipelineFlags(forceZerosForEmptyPrompt: true, requiresAestheticsScore: false)
}
