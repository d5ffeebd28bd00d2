import Tensor

/// Linear multistep, order 4 (LMSDiscreteScheduler). The coefficients are integrals of the
/// Lagrange basis over [sigma_i, sigma_i+1]; diffusers integrates numerically (scipy quad,
/// exact for these cubic polynomials), here 4-point Gauss-Legendre, also exact.
///
/// diffusers quirk reproduced: the order is min(absolute step index + 1, 4) and the
/// coefficients use the full schedule's sigmas, even when img2img starts mid-schedule with
/// fewer stored derivatives (the unmatched coefficients are simply dropped by its zip).
struct LMSStepper: Stepper {
    static let maxOrder = 4
    private var derivatives: [Tensor] = []

    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor) {
        let sigma = ctx.sigma(i)
        let d = try ctx.denoise(x, at: i)
        derivatives.append((x - d).divided(by: Float(sigma)))
        if derivatives.count > Self.maxOrder { derivatives.removeFirst() }
        let absolute = ctx.plan.startIndex + i
        let sigmas = ctx.plan.fullSigmas
        var order = min(absolute + 1, Self.maxOrder)
        // Lagrange nodes must be distinct; repeated sigmas (more steps than distinct
        // training timesteps) would divide by zero, so drop to the largest usable order.
        while order > 1, Set(sigmas[(absolute - order + 1)...absolute]).count < order { order -= 1 }
        var out = x
        // zip(coeffs, reversed(derivatives)): coefficient j pairs with the j-th newest derivative.
        for j in 0..<min(order, derivatives.count) {
            let c = Self.coefficient(order: order, t: absolute, current: j, sigmas: sigmas)
            out = out + derivatives[derivatives.count - 1 - j] * Float(c)
        }
        return (out, d)
    }

    static func coefficient(order: Int, t: Int, current: Int, sigmas: [Double]) -> Double {
        func basis(_ tau: Double) -> Double {
            var prod = 1.0
            for k in 0..<order where k != current {
                prod *= (tau - sigmas[t - k]) / (sigmas[t - current] - sigmas[t - k])
            }
            return prod
        }
        let a = sigmas[t], b = sigmas[t + 1]
        let nodes: [(Double, Double)] = [(-0.8611363115940526, 0.3478548451374538),
                                        (-0.3399810435848563, 0.6521451548625461),
                                        (0.3399810435848563, 0.6521451548625461),
                                        (0.8611363115940526, 0.3478548451374538)]
        let half = (b - a) / 2, mid = (a + b) / 2
        return nodes.reduce(0) { $0 + $1.1 * basis(mid + half * $1.0) } * half
    }
}
