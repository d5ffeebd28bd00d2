/// The sampling algorithms. Each is checked against the diffusers scheduler named in its
/// comment (SamplerParityTests; DPM++ SDE with Brownian-tree noise in BrownianTreeTests).
public enum SamplerKind: String, CaseIterable, Sendable {
    case euler                          // EulerDiscreteScheduler
    case eulerAncestral = "euler_a"     // EulerAncestralDiscreteScheduler
    case heun                           // HeunDiscreteScheduler
    case dpmpp2m = "dpmpp_2m"           // DPMSolverMultistepScheduler(dpmsolver++, midpoint)
    case dpmpp2mSDE = "dpmpp_2m_sde"    // DPMSolverMultistepScheduler(sde-dpmsolver++, midpoint)
    case dpmppSDE = "dpmpp_sde"         // DPMSolverSDEScheduler / k-diffusion sample_dpmpp_sde
    case ddim                           // DDIMScheduler
    case lms                            // LMSDiscreteScheduler (order 4)
    case lcm                            // LCMScheduler

    /// Which diffusers scheduler family picks the timesteps and in which space diffusers
    /// keeps the latents (VE: x = x0 + sigma*eps; VP: x = sqrt(a)*x0 + sqrt(1-a)*eps).
    enum Family { case karrasDiscrete, dpmMultistep, ddim, lcm }

    var family: Family {
        switch self {
        case .euler, .eulerAncestral, .heun, .lms, .dpmppSDE: return .karrasDiscrete
        case .dpmpp2m, .dpmpp2mSDE: return .dpmMultistep
        case .ddim: return .ddim
        case .lcm: return .lcm
        }
    }

    /// diffusers keeps VP latents for these: the initial latent is plain noise and the
    /// result is x at the last sigma divided by sqrt(1 + sigma^2).
    var latentsAreVP: Bool { family != .karrasDiscrete }

    /// Whether the sampler draws fresh noise during sampling (ancestral/SDE).
    public var isStochastic: Bool {
        switch self {
        case .eulerAncestral, .dpmpp2mSDE, .dpmppSDE, .lcm: return true
        case .ddim: return true  // only when eta > 0
        default: return false
        }
    }
}
