import Models
import Tensor

/// One UNet call as the core is about to make it, for `UNetInputExtension`s to amend.
public struct UNetStepInput {
    /// The UNet batch (c_in-scaled latents, laid out as `GuidanceBatchLayout`), extended channels included.
    public var latents: Tensor
    public var timestep: Float
    public var conditioning: UNetConditioning

    public init(latents: Tensor, timestep: Float, conditioning: UNetConditioning) {
        self.latents = latents
        self.timestep = timestep
        self.conditioning = conditioning
    }
}
