/// Which per-token states a text-encoder pass returns.
public enum CLIPHiddenStates: Equatable, Sendable {
    /// The final LayerNorm applied to the output of layer `layersToRun - clipSkip + 1`: clip skip 1 is
    /// transformers' `last_hidden_state`, k > 1 is diffusers' `clip_skip = k - 1` (SD 1.x/2.x conditioning).
    case normed(clipSkip: Int)
    /// transformers' `hidden_states[layer]` without the final LayerNorm: 0 is the embeddings, k the output
    /// of layer k (SDXL conditions on the penultimate layer's raw states).
    case raw(layer: Int)
}
