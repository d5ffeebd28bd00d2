import Foundation
import Tensor

/// Euler (EulerDiscreteScheduler with s_churn = 0): x += (x - D) / sigma * (sigma_next - sigma).
struct EulerStepper: Stepper {
    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i), next = ctx.sigma(i + 1)
        let d = try ctx.denoise(x, at: i)
        let derivative = (x - d).divided(by: Float(sigma))
        return (x + derivative * Float(next - sigma), d)
    }
}

/// Euler ancestral (EulerAncestralDiscreteScheduler): Euler to sigma_down, then fresh noise
/// of std sigma_up. Noise is drawn at every step, the last included (sigma_up = 0 there),
/// because diffusers draws it unconditionally and the generator state must follow.
struct EulerAncestralStepper: Stepper {
    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i), next = ctx.sigma(i + 1)
        let d = try ctx.denoise(x, at: i)
        let (down, up) = ancestralStep(from: sigma, to: next)
        let derivative = (x - d).divided(by: Float(sigma))
        let moved = x + derivative * Float(down - sigma)
        let noise = ctx.noise.randn(x.shape)
        return (moved + noise * Float(up), d)
    }
}

/// k-diffusion's get_ancestral_step (eta = 1 unless given).
func ancestralStep(from sigma: Double, to next: Double, eta: Double = 1) -> (down: Double, up: Double) {
    if next == 0 { return (0, 0) }
    let up = min(next, eta * (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot())
    let down = (next * next - up * up).squareRoot()
    return (down, up)
}

/// Heun (HeunDiscreteScheduler): Euler predictor, trapezoidal corrector with a second model
/// call at sigma_next (its timestep is the schedule's next one, as diffusers interleaves
/// them); the final step to sigma 0 is plain Euler.
struct HeunStepper: Stepper {
    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i), next = ctx.sigma(i + 1)
        let d = try ctx.denoise(x, at: i)
        let derivative = (x - d).divided(by: Float(sigma))
        let dt = Float(next - sigma)
        let predicted = x + derivative * dt
        if next == 0 || i + 1 >= ctx.plan.timesteps.count { return (predicted, d) }
        let d2 = try ctx.denoise(predicted, at: i + 1)
        let derivative2 = (predicted - d2).divided(by: Float(next))
        let mean = (derivative + derivative2) * Float(0.5)
        return (x + mean * dt, d)
    }
}
