/// How the inference sigmas are spaced.
public enum SigmaScheduleKind: String, CaseIterable, Sendable {
    /// The sampler's own diffusers schedule for the model's `timestep_spacing` ("discrete").
    case normal
    /// Karras et al. 2022, rho = 7, between the sigma bounds diffusers uses for that sampler.
    case karras
    /// Evenly spaced in log-sigma.
    case exponential
    /// ComfyUI's sgm_uniform: timesteps evenly spaced from t(sigma_max) to t(sigma_min), last dropped.
    case sgmUniform = "sgm_uniform"
    /// ComfyUI's simple: every (n_train / steps)-th training sigma from the top.
    case simple
}
