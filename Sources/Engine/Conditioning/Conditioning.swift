import Models
import Tensor

/// The text conditioning of one run, batch-aligned with the UNet batch (see `GuidanceBatchLayout`).
public struct Conditioning {
    /// Cross-attention context [B, L, D] (SDXL: both encoders' states concatenated along D).
    public var context: Tensor
    /// Pooled, projected text embeddings [B, P], for UNets with added conditioning (SDXL); nil for SD 1.x/2.x.
    public var pooled: Tensor?
    /// SDXL's micro-conditioning time ids [B, 6]; nil for SD 1.x/2.x.
    public var timeIDs: Tensor?

    public init(context: Tensor, pooled: Tensor? = nil, timeIDs: Tensor? = nil) {
        self.context = context
        self.pooled = pooled
        self.timeIDs = timeIDs
    }

    /// What the UNet is called with: added conditioning only when both of its parts are there.
    public var unetConditioning: UNetConditioning {
        guard let pooled, let timeIDs else { return UNetConditioning(context: context) }
        return UNetConditioning(context: context, added: AddedConditioning(textEmbeds: pooled, timeIDs: timeIDs))
    }
}
