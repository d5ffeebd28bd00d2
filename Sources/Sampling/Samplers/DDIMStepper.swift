import Tensor

/// DDIM (DDIMScheduler), computed in diffusers' VP space so its quirks carry over: each step
/// lands on alphas_cumprod[t - n_train/steps] (the plan's target sigma), and the next step
/// reads that VP latent as if it were at the next timestep's alpha. With eta > 0 one noise
/// tensor is drawn per step (diffusers draws it only then).
struct DDIMStepper: Stepper {
    let eta: Double

    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i), target = ctx.plan.targetSigmas[i], next = ctx.sigma(i + 1)
        let d = try ctx.denoise(x, at: i)
        let alpha = 1 / (1 + sigma * sigma)
        let alphaPrev = 1 / (1 + target * target)
        let eps = (x - d) * Float(1 / sigma)
        let variance = (1 - alphaPrev) / (1 - alpha) * (1 - alpha / alphaPrev)
        let std = eta * max(variance, 0).squareRoot()
        var prev = d * Float(alphaPrev.squareRoot()) + eps * Float(max(1 - alphaPrev - std * std, 0).squareRoot())
        if eta > 0 {
            prev = prev + ctx.noise.randn(x.shape) * Float(std)
        }
        // Back to VE at the sigma the loop continues from.
        return (prev * Float((1 + next * next).squareRoot()), d)
    }
}
