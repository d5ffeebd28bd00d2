import Tensor

/// Latent Consistency Model sampling (LCMScheduler): the consistency boundary condition
/// mixes the model's x0 with the VP input (c_skip, c_out from the scaled timestep), then the
/// result is re-noised to the next sigma with fresh noise, except at the last step.
struct LCMStepper: Stepper {
    static let sigmaData = 0.5

    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i), next = ctx.sigma(i + 1)
        let d = try ctx.denoise(x, at: i)
        let scaled = ctx.plan.timesteps[i] * ctx.plan.noiseSchedule.config.timestepScaling
        let sd2 = Self.sigmaData * Self.sigmaData
        let cSkip = sd2 / (scaled * scaled + sd2)
        let cOut = scaled / (scaled * scaled + sd2).squareRoot()
        let vp = x * Float(1 / (1 + sigma * sigma).squareRoot())
        let boundary = d * Float(cOut) + vp * Float(cSkip)
        if i == ctx.plan.steps - 1 { return (boundary, boundary) }
        return (boundary + ctx.noise.randn(x.shape) * Float(next), boundary)
    }
}
