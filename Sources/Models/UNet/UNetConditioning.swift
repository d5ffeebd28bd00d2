import Tensor

/// Everything a UNet call is conditioned on besides the latents and the timestep, batch-aligned with the
/// latents: the cross-attention context, and the optional inputs of the models built on top of SD
/// (SDXL's added conditioning, ControlNet/adapter residuals), so a new kind of conditioning is a new
/// field here rather than a new `forward` overload.
public struct UNetConditioning {
    /// Cross-attention context [N, L, cross_attention_dim].
    public var context: Tensor
    /// SDXL's pooled text embeddings and time ids (`added_cond_kwargs`): required by a UNet with
    /// `addition_embed_type "text_time"` (`UNet.textTimeEmbedding`), refused by SD 1.x/2.x UNets.
    public var added: AddedConditioning?
    /// Residuals added to the skip connections and the mid-block output (ControlNet, T2I adapters).
    public var control: ControlResiduals?
    /// T2I-Adapter features (diffusers' `down_intrablock_additional_residuals`), one per down block in order:
    /// added after the last resnet/attention pair of a cross-attention block (before its skip is stored and
    /// before it downsamples), after a plain block's output (which is also its last skip); a feature left over
    /// with the mid block's output shape is added there (T2I-Adapter-XL); any others are unused, as in diffusers.
    public var adapterFeatures: [Tensor]?
    /// A1111 hypernetworks on every attention's key and value inputs (none by default).
    public var hypernetworks: HypernetworkStack = .none

    public init(context: Tensor, added: AddedConditioning? = nil, control: ControlResiduals? = nil,
                adapterFeatures: [Tensor]? = nil) {
        self.context = context
        self.added = added
        self.control = control
        self.adapterFeatures = adapterFeatures
    }
}
