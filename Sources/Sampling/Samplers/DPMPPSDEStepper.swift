import Foundation
import Tensor

/// DPM-Solver++ (stochastic, second order, r = 1/2, eta = 1): k-diffusion's sample_dpmpp_sde.
///
/// Noise: with a `BrownianTreeNoise` (what k-diffusion, A1111 and diffusers'
/// DPMSolverSDEScheduler use) the two noises of a step are the tree's increments over
/// [sigma, sigma_mid] and [sigma, sigma_next], queried at the float32 points diffusers
/// computes; without one, plain draws from the run's generator (midpoint, then end).
struct DPMPPSDEStepper: Stepper {
    let r = 0.5

    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i), next = ctx.sigma(i + 1)
        let d = try ctx.denoise(x, at: i)
        if next == 0 {
            let derivative = (x - d) * Float(1 / sigma)
            return (x + derivative * Float(next - sigma), d)
        }
        func sigmaOf(_ t: Double) -> Double { Foundation.exp(-t) }
        func tOf(_ s: Double) -> Double { -Foundation.log(s) }
        // diffusers' float32 query points for the Brownian tree: sigma_fn(t_fn(sigma)) etc.
        let tF = -Foundation.logf(Float(sigma)), tNextF = -Foundation.logf(Float(next))
        let tMidF = tF + (tNextF - tF) * 0.5
        func stepNoise(to target: Float) -> Tensor {
            if let tree = ctx.brownian {
                return tree.noise(from: Foundation.expf(-tF), to: Foundation.expf(-target))
            }
            return ctx.noise.randn(x.shape)
        }
        let t = tOf(sigma), tNext = tOf(next)
        let h = tNext - t
        let s = t + h * r
        let fac = 1 / (2 * r)

        let (down1, up1) = ancestralStep(from: sigmaOf(t), to: sigmaOf(s))
        let s1 = tOf(down1)
        var x2 = x * Float(sigmaOf(s1) / sigmaOf(t)) - d * Float(Foundation.expm1(t - s1))
        x2 = x2 + stepNoise(to: tMidF) * Float(up1)
        let d2 = try ctx.denoise(x2, sigma: sigmaOf(s))

        let (down2, up2) = ancestralStep(from: sigmaOf(t), to: sigmaOf(tNext))
        let t2 = tOf(down2)
        let mixed = d * Float(1 - fac) + d2 * Float(fac)
        var out = x * Float(sigmaOf(t2) / sigmaOf(t)) - mixed * Float(Foundation.expm1(t - t2))
        out = out + stepNoise(to: tNextF) * Float(up2)
        return (out, d)
    }
}
