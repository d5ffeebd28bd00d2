import Models

/// Which text-encoder states a prompt encoder conditions on, as a function of the clip skip.
public enum PromptStates: Sendable, Equatable {
    /// SD 1.x/2.x: the final LayerNorm applied to the clip-skip layer (1 = `last_hidden_state`).
    case finalNormed
    /// SDXL: the raw states one layer below the clip-skip layer (clip skip 1 = the penultimate layer,
    /// diffusers' `hidden_states[-(clip_skip + 2)]` with our clip skip = diffusers' + 1).
    case rawBelowClipSkip

    func selection(clipSkip: Int, layers: Int) -> CLIPHiddenStates {
        switch self {
        case .finalNormed: return .normed(clipSkip: clipSkip)
        case .rawBelowClipSkip: return .raw(layer: layers - clipSkip)
        }
    }
}
