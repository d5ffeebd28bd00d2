import Tensor

/// diffusers' `added_cond_kwargs` for `addition_embed_type = "text_time"` (SDXL): the pooled, projected
/// text embedding and the six micro-conditioning time ids (original size, crop offset, target size), which
/// the UNet's `add_embedding` turns into an addition to the time embedding.
public struct AddedConditioning {
    /// [N, projection_dim].
    public var textEmbeds: Tensor
    /// [N, 6].
    public var timeIDs: Tensor

    public init(textEmbeds: Tensor, timeIDs: Tensor) {
        self.textEmbeds = textEmbeds
        self.timeIDs = timeIDs
    }
}
