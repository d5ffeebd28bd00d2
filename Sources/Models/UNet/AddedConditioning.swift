import Tensor

/// diffusers' `added_cond_kwargs` for `addition_embed_type = "text_time"` (SDXL): the pooled, projected
/// text embedding and the micro-conditioning time ids (base: original size, crop offset, target size;
/// refiner: original size, crop offset, aesthetic score), which the UNet's `add_embedding` turns into an
/// addition to the time embedding (see `TextTimeEmbedding`).
public struct AddedConditioning {
    /// [N, projection_dim].
    public var textEmbeds: Tensor
    /// [N, K]: K = 6 (base, inpaint) or 5 (refiner); `TextTimeEmbedding.timeIDCount` says which.
    public var timeIDs: Tensor

    public init(textEmbeds: Tensor, timeIDs: Tensor) {
        self.textEmbeds = textEmbeds
        self.timeIDs = timeIDs
    }
}
