import Foundation

/// Everything a sampling run needs besides the model: the VE sigmas it walks through, the
/// timestep the model is told at each of them, and how the latent enters and leaves the loop.
///
/// All samplers here iterate on VE latents (x = x0 + sigma * eps, k-diffusion style). The
/// sigmas and timesteps are exactly those the matching diffusers scheduler computes in
/// `set_timesteps` (float32 values), including img2img's `strength` cut, so that a run here
/// takes the same steps as the diffusers pipeline.
public struct SamplingPlan: Sendable {
    public let sampler: SamplerKind
    public let schedule: SigmaScheduleKind
    public let noiseSchedule: NoiseSchedule
    /// VE sigmas, `steps + 1` values; the last one is where the run ends (0 unless the
    /// scheduler ends on alphas_cumprod[0]).
    public internal(set) var sigmas: [Double]
    /// The model's timestep at `sigmas[i]`, `steps` values.
    public internal(set) var timesteps: [Double]
    /// The sigma each step actually lands on. Equal to `sigmas[i + 1]` except for diffusers'
    /// DDIM, which steps to alphas_cumprod[t - n_train / steps] and then reads the result as
    /// if it were at the next timestep.
    public internal(set) var targetSigmas: [Double]
    /// txt2img: the initial latent is `noise * initialNoiseScale` (VE). diffusers' Euler-type
    /// schedulers use sqrt(sigma_max^2 + 1) for "leading" spacing and sigma_max otherwise;
    /// VP schedulers start from plain noise, i.e. sqrt(sigma_0^2 + 1) in VE terms.
    public let initialNoiseScale: Double
    /// The result is `x * outputScale`: 1 for VE schedulers, 1/sqrt(1 + sigma_last^2) for VP
    /// ones (their output latent is the VP latent at the last sigma).
    public internal(set) var outputScale: Double
    /// Steps of the full (strength 1) schedule; `steps` is smaller for img2img.
    public let fullSteps: Int
    /// Sigmas of the full schedule and where this run starts in it (img2img's t_start);
    /// LMS needs them because diffusers picks its order and coefficients by absolute index.
    public internal(set) var fullSigmas: [Double]
    public internal(set) var startIndex: Int

    public var steps: Int { timesteps.count }

    /// - Parameters:
    ///   - steps: inference steps requested (before the strength cut).
    ///   - strength: img2img strength in (0, 1]; nil for txt2img. As diffusers:
    ///     init_timestep = min(Int(steps * strength), steps), t_start = steps - init_timestep,
    ///     and the run starts at the schedule's index t_start (LCM: strength shortens the
    ///     distillation schedule instead, as LCMScheduler.set_timesteps does).
    public init(noiseSchedule: NoiseSchedule, sampler: SamplerKind, schedule: SigmaScheduleKind = .normal,
                steps: Int, strength: Double? = nil) throws {
        // diffusers refuses more inference steps than training steps; beyond that timesteps
        // repeat or go negative.
        guard steps >= 1, steps <= noiseSchedule.config.numTrainTimesteps else { throw SamplingError.invalidSteps(steps) }
        if let s = strength, !(s > 0 && s <= 1) { throw SamplingError.invalidStrength(s) }
        let builder = ScheduleBuilder(schedule: noiseSchedule, steps: steps)
        var raw: ScheduleBuilder.Raw
        switch (sampler.family, schedule) {
        case (.karrasDiscrete, .normal), (.karrasDiscrete, .karras), (.karrasDiscrete, .exponential):
            raw = builder.karrasDiscrete(schedule)
        case (.dpmMultistep, .normal), (.dpmMultistep, .karras), (.dpmMultistep, .exponential):
            raw = builder.dpmMultistep(schedule)
        case (.ddim, .normal):
            raw = builder.ddim()
        case (.lcm, .normal):
            raw = try builder.lcm(strength: strength ?? 1)
        case (.lcm, _):
            throw SamplingError.unsupportedCombination(sampler: sampler.rawValue, schedule: schedule.rawValue,
                reason: "LCM runs on its distillation timesteps; use the normal schedule")
        default:
            raw = builder.generic(schedule, roundTimesteps: sampler.family == .dpmMultistep)
        }
        fullSteps = raw.timesteps.count
        fullSigmas = raw.sigmas
        var start = 0
        if let strength, sampler != .lcm {
            let initTimestep = min(Int(Double(steps) * strength), steps)
            let tStart = max(steps - initTimestep, 0)
            guard tStart < raw.timesteps.count else { throw SamplingError.invalidStrength(strength) }
            raw = raw.dropping(first: tStart)
            start = tStart
        }
        startIndex = start
        self.sampler = sampler
        self.schedule = schedule
        self.noiseSchedule = noiseSchedule
        sigmas = raw.sigmas
        timesteps = raw.timesteps
        targetSigmas = raw.targets ?? Array(raw.sigmas.dropFirst())
        let first = raw.sigmas[0]
        if sampler.latentsAreVP {
            initialNoiseScale = (first * first + 1).squareRoot()
            let last = raw.sigmas[raw.sigmas.count - 1]
            outputScale = 1 / (last * last + 1).squareRoot()
        } else {
            // diffusers' init_noise_sigma uses the max of the FULL schedule's sigmas.
            let maxSigma = raw.fullMaxSigma
            initialNoiseScale = noiseSchedule.config.timestepSpacing == .leading
                ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
            outputScale = 1
        }
    }

    /// The same plan walking through other sigmas (same count), e.g. a schedule computed
    /// elsewhere; timesteps, targets and scales are kept.
    func replacingSigmas(_ newSigmas: [Double]) -> SamplingPlan {
        precondition(newSigmas.count == sigmas.count, "sigma count must not change")
        var copy = self
        copy.sigmas = newSigmas
        copy.targetSigmas = Array(newSigmas.dropFirst())
        copy.fullSigmas = Array(fullSigmas.prefix(startIndex)) + newSigmas
        return copy
    }

    /// img2img: the latent the run starts from, `x0 + sigma_0 * noise` (diffusers'
    /// `scheduler.add_noise` at the first timestep, expressed in VE terms; identical for
    /// VP schedulers once converted).
    public var startSigma: Double { sigmas[0] }
}
