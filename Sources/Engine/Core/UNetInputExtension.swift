/// A per-step addition to the UNet's inputs, applied by the core after it has batched the latents for
/// classifier-free guidance and before the UNet runs: the mask channels of inpainting UNets
/// (`InpaintUNetInput`) today; ControlNet residuals and adapter features next, which need the step's
/// latents and timestep and so cannot be prepared once per run.
public protocol UNetInputExtension {
    func extend(_ input: inout UNetStepInput, layout: GuidanceBatchLayout) throws
}
