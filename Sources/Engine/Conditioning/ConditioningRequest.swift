/// What a conditioner encodes for one run.
public struct ConditioningRequest: Sendable, Equatable {
    public var prompt: String
    public var negativePrompt: String
    /// 1 = last layer (see `GenerationRequest.clipSkip`).
    public var clipSkip: Int
    /// Images in the batch.
    public var batch: Int
    /// Whether classifier-free guidance runs the unconditional pass (the conditioning then leads with it).
    public var withUnconditional: Bool

    public init(prompt: String, negativePrompt: String, clipSkip: Int, batch: Int, withUnconditional: Bool) {
        self.prompt = prompt
        self.negativePrompt = negativePrompt
        self.clipSkip = clipSkip
        self.batch = batch
        self.withUnconditional = withUnconditional
    }
}
