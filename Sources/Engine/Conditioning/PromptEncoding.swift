import Tensor

/// One prompt through one text encoder.
public struct PromptEncoding {
    /// Emphasis-weighted states of every chunk, concatenated along the sequence axis [1, 77 * chunks, D].
    public let states: Tensor
    /// The pooled output of the first chunk [1, P] (A1111's choice for long prompts), when asked for.
    public let pooled: Tensor?
}
