import Foundation
import Tensor

/// DPM-Solver++(2M) and its SDE variant, as DPMSolverMultistepScheduler with
/// algorithm_type "dpmsolver++" / "sde-dpmsolver++", solver_type "midpoint", order 2,
/// final_sigmas_type "zero" (so the last step is first order and lands on the denoised
/// estimate). Written in VE form; diffusers' VP update divided by alpha_t is the same formula.
/// The SDE variant draws one noise tensor at every step, before the update, as diffusers does;
/// given a Brownian tree (A1111 / k-diffusion's sample_dpmpp_2m_sde) it instead queries the
/// tree over [sigma, sigma_next] on every step that does not end at sigma 0.
struct DPMPP2MStepper: Stepper {
    let sde: Bool
    private var previousDenoised: Tensor?
    private var previousLambda: Double = 0

    init(sde: Bool) { self.sde = sde }

    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i), next = ctx.sigma(i + 1)
        let d = try ctx.denoise(x, at: i)
        var noise: Tensor?
        if sde {
            if let tree = ctx.brownian {
                noise = next > 0 ? tree.noise(from: Float(sigma), to: Float(next)) : nil
            } else {
                noise = ctx.noise.randn(x.shape)
            }
        }
        let lambda = -Foundation.log(sigma)
        defer { previousDenoised = d; previousLambda = lambda }
        if next == 0 {
            // h = inf: the update collapses to the denoised estimate (noise term * 0).
            return (d, d)
        }
        let lambdaNext = -Foundation.log(next)
        let h = lambdaNext - lambda
        // A repeated sigma (possible with more steps than distinct training timesteps) is
        // a zero-length step: diffusers would divide by h = 0 and produce NaN.
        if h == 0 { return (x, d) }
        // D0 + 0.5 * D1 with D1 = (m0 - m1) / r0 (first order: just D0, also when the
        // previous sigma equals this one, where r0 would be 0).
        var target = d
        if let old = previousDenoised, lambda != previousLambda {
            let r0 = (lambda - previousLambda) / h
            target = d + (d - old) * Float(0.5 / r0)
        }
        if let noise {
            let e2h = -Foundation.expm1(-2 * h)  // 1 - exp(-2h)
            let decay = next / sigma * Foundation.exp(-h)
            let out = x * Float(decay) + target * Float(e2h) + noise * Float(next * e2h.squareRoot())
            return (out, d)
        }
        let out = x * Float(next / sigma) - target * Float(Foundation.expm1(-h))
        return (out, d)
    }
}
