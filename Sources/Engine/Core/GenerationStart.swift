import Models
import Sampling
import Tensor

/// What a pipeline prepares for the core: where sampling starts, the generator it drew from (the samplers'
/// step noise continues from its state), the per-step UNet input extensions and its latent blend.
public struct GenerationStart {
    /// The VE latent the loop starts from [images, 4, h, w].
    public var latents: Tensor
    public var noise: NoiseSource
    public var extensions: [any UNetInputExtension]
    /// Runs after each step, before the caller's own `Hooks.blend` (inpainting's known-region blend), in the
    /// stages whose UNet `blendApplies` to.
    public var blend: ((Tensor, Int) throws -> Tensor)?
    /// Which stages' UNets take `blend`: a 9-channel inpainting UNet is conditioned on the known region instead,
    /// while a plain refiner after it must keep the region by blending. Default: every stage.
    public var blendApplies: @Sendable (UNetConfig) -> Bool = { _ in true }

    public init(latents: Tensor, noise: NoiseSource, extensions: [any UNetInputExtension] = [],
                blend: ((Tensor, Int) throws -> Tensor)? = nil) {
        self.latents = latents
        self.noise = noise
        self.extensions = extensions
        self.blend = blend
    }
}
