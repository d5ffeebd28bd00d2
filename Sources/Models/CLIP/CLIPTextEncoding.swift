import Tensor

/// What one text-encoder pass returns.
public struct CLIPTextEncoding {
    /// Per-token states [B, L, D] as `CLIPHiddenStates` selected.
    public let states: Tensor
    /// transformers' pooled output [B, P]: the final-LayerNormed last layer at each sequence's EOS position,
    /// through `text_projection` when the checkpoint has one (`text_embeds`, P = projection_dim), else
    /// unprojected (`pooler_output`, P = hidden_size). Nil unless asked for.
    public let pooled: Tensor?
}
