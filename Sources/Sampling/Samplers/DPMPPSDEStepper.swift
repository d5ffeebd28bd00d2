import Foundation
import Tensor

/// DPM-Solver++ (stochastic, second order, r = 1/2, eta = 1): k-diffusion's sample_dpmpp_sde.
///
/// Noise: k-diffusion and diffusers' DPMSolverSDEScheduler draw it from a torchsde Brownian
/// tree; that tree's internal sampling is not reproduced here. This sampler instead draws
/// plain Gaussian noise from the run's generator (two draws per step, midpoint then end),
/// so results are reproducible per seed but not identical to diffusers' for this sampler.
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
        let t = tOf(sigma), tNext = tOf(next)
        let h = tNext - t
        let s = t + h * r
        let fac = 1 / (2 * r)

        let (down1, up1) = ancestralStep(from: sigmaOf(t), to: sigmaOf(s))
        let s1 = tOf(down1)
        var x2 = x * Float(sigmaOf(s1) / sigmaOf(t)) - d * Float(Foundation.expm1(t - s1))
        x2 = x2 + ctx.noise.randn(x.shape) * Float(up1)
        let d2 = try ctx.denoise(x2, sigma: sigmaOf(s))

        let (down2, up2) = ancestralStep(from: sigmaOf(t), to: sigmaOf(tNext))
        let t2 = tOf(down2)
        let mixed = d * Float(1 - fac) + d2 * Float(fac)
        var out = x * Float(sigmaOf(t2) / sigmaOf(t)) - mixed * Float(Foundation.expm1(t - t2))
        out = out + ctx.noise.randn(x.shape) * Float(up2)
        return (out, d)
    }
}
