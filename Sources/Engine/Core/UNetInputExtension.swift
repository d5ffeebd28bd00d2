import Models
/// A per-step addition to the UNet's inputs, applied by the core after it has batched the latents for
/// classifier-free guidance and before the UNet runs: the mask channels of inpainting UNets
/// (`InpaintUNetInput`) today; ControlNet residuals and adapter features next, which need the step's
/// latents and timestep and so cannot be prepared once per run.
public protocol UNetInputExtension {
    func extend(_ input: inout UNetStepInput, layout: GuidanceBatchLayout) throws
    /// Whether a stage whose UNet has `unet`'s configuration takes this input (a hand-off may pass from a
    /// 9-channel inpainting base to a plain refiner). Default: every stage.
    func applies(to unet: UNetConfig) -> Bool
}

extension UNetInputExtension {
    public func applies(to unet: UNetConfig) -> Bool { true }
}
