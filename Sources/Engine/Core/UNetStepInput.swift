import Models
import Tensor

/// One UNet call as the core is about to make it, for `UNetInputExtension`s to amend.
public struct UNetStepInput {
    /// The UNet batch (c_in-scaled latents, laid out as `GuidanceBatchLayout`), extended channels included.
    public var latents: Tensor
    public var timestep: Float
    public var conditioning: UNetConditioning
    /// The step of the run this call belongs to (0-based, across a refiner hand-off's stages) and the run's step
    /// count (after img2img's strength cut): ControlNets' start/end fractions are of these. Samplers that evaluate between two
    /// timesteps (Heun, DPM2, DPM++ SDE) report the step whose timestep is the last one not below the call's.
    public var step: Int
    public var steps: Int

    public init(latents: Tensor, timestep: Float, conditioning: UNetConditioning, step: Int = 0, steps: Int = 1) {
        self.latents = latents
        self.timestep = timestep
        self.conditioning = conditioning
        self.step = step
        self.steps = steps
    }
}
