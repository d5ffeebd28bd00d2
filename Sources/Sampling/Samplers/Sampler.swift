import Tensor

/// The one sampling loop shared by txt2img, img2img, inpainting and tiled refinement.
public enum Sampler {
    /// txt2img starting latent: one draw of `shape` from `noise`, scaled as diffusers'
    /// pipelines do (`randn * init_noise_sigma`), expressed as a VE latent.
    public static func initialLatent(plan: SamplingPlan, shape: [Int], noise: NoiseSource) -> Tensor {
        noise.randn(shape) * Float(plan.initialNoiseScale)
    }

    /// img2img starting latent: one draw of noise, then `x0 + sigma_0 * noise` (diffusers'
    /// `scheduler.add_noise` at the first timestep of the cut schedule, in VE terms).
    public static func noisedLatent(plan: SamplingPlan, x0: Tensor, noise: NoiseSource) -> Tensor {
        addNoise(x0, noise: noise.randn(x0.shape), sigma: plan.startSigma)
    }

    /// `x0 + sigma * noise`: diffusers' `scheduler.add_noise` in VE terms. Inpainting re-noises
    /// the known region with the run's initial noise tensor at `plan.sigmas[i + 1]` in the
    /// blend hook (as StableDiffusionInpaintPipeline does with `timesteps[i + 1]`).
    public static func addNoise(_ x0: Tensor, noise: Tensor, sigma: Double) -> Tensor {
        x0 + noise * Float(sigma)
    }

    /// Runs `plan` from the VE latent `x` and returns the final latent in the space the
    /// diffusers pipeline decodes (see `SamplingPlan.outputScale`).
    ///
    /// - Parameters:
    ///   - noise: the generator ancestral/SDE samplers draw their step noise from (the same
    ///     one that made the initial noise, continuing its state, as diffusers does).
    ///   - eta: DDIM's eta (0 = deterministic DDIM); ignored by the others.
    ///   - brownian: DPM++ SDE and DPM++ 2M SDE: draw their noise from this Brownian tree
    ///     (diffusers' DPMSolverSDEScheduler; A1111 for both) instead of plain draws from `noise`
    ///     (diffusers' DPM++ 2M SDE uses plain draws).
    public static func sample(plan: SamplingPlan, x: Tensor, noise: NoiseSource, eta: Double = 0,
                              brownian: IntervalNoise? = nil,
                              denoise: DenoiseFunction, hooks: SamplingHooks = SamplingHooks()) throws -> Tensor {
        try withoutActuallyEscaping(denoise) { denoise in
            try run(plan: plan, x: x, noise: noise, eta: eta, brownian: brownian, denoise: denoise, hooks: hooks)
        }
    }

    private static func run(plan: SamplingPlan, x: Tensor, noise: NoiseSource, eta: Double, brownian: IntervalNoise?,
                            denoise: @escaping DenoiseFunction, hooks: SamplingHooks) throws -> Tensor {
        var stepper = makeStepper(plan.sampler, eta: eta)
        let context = StepContext(plan: plan, denoise: denoise, noise: noise, brownian: brownian)
        var x = x
        for i in 0..<plan.steps {
            if hooks.isCancelled() { throw SamplingError.cancelled(step: i) }
            let result = try stepper.step(x, index: i, context)
            x = result.x
            if let blend = hooks.blend {
                x = try blend(x, i)
            }
            try hooks.onStep(StepProgress(step: i + 1, steps: plan.steps, sigma: plan.sigmas[i],
                                          latent: x, denoised: result.denoised))
        }
        return plan.outputScale == 1 ? x : x * Float(plan.outputScale)
    }

    static func makeStepper(_ kind: SamplerKind, eta: Double) -> Stepper {
        switch kind {
        case .euler: return EulerStepper()
        case .eulerAncestral: return EulerAncestralStepper()
        case .heun: return HeunStepper()
        case .lms: return LMSStepper()
        case .dpmpp2m: return DPMPP2MStepper(sde: false)
        case .dpmpp2mSDE: return DPMPP2MStepper(sde: true)
        case .dpmppSDE: return DPMPPSDEStepper()
        case .ddim: return DDIMStepper(eta: eta)
        case .lcm: return LCMStepper()
        }
    }
}

/// What a step sees besides the latent.
struct StepContext {
    let plan: SamplingPlan
    let denoise: DenoiseFunction
    let noise: NoiseSource
    let brownian: IntervalNoise?

    func sigma(_ i: Int) -> Double { plan.sigmas[i] }

    /// Denoise at the plan's i-th sigma with its timestep.
    func denoise(_ x: Tensor, at i: Int) throws -> Tensor {
        try checked(denoise(x, SigmaPoint(sigma: plan.sigmas[i], timestep: plan.timesteps[i])), x)
    }

    /// Denoise at an intermediate sigma (timestep from diffusers' log-sigma interpolation).
    func denoise(_ x: Tensor, sigma: Double) throws -> Tensor {
        let t = Double(Float(plan.noiseSchedule.timestep(sigma: sigma)))
        return try checked(denoise(x, SigmaPoint(sigma: sigma, timestep: t)), x)
    }

    private func checked(_ d: Tensor, _ x: Tensor) throws -> Tensor {
        guard d.shape == x.shape else {
            throw SamplingError.shapeMismatch(expected: x.shape, got: d.shape, context: "denoised latent")
        }
        return d
    }
}

/// One sampler's update rule; stateful for multistep methods. A step goes from
/// `sigmas[i]` to `sigmas[i + 1]` (with as many model calls as the method needs).
protocol Stepper {
    mutating func step(_ x: Tensor, index i: Int, _ ctx: StepContext) throws -> (x: Tensor, denoised: Tensor)
}
