import Foundation

/// The two parts of a plan split for the SDXL ensemble of experts (diffusers' `denoising_end` on the base
/// pipeline, `denoising_start` on the refiner; A1111's "refiner switch at").
public struct PlanSplit: Sendable {
    /// The steps the base model runs: those with `t >= cutoff`. Its `outputScale` is the one the base pipeline
    /// leaves with, so `base`'s result equals diffusers' hand-off latents.
    public let base: SamplingPlan
    /// The steps the refiner runs from the base's latents, without adding noise.
    public let refiner: SamplingPlan
    /// diffusers' `discrete_timestep_cutoff`.
    public let cutoff: Int
}

extension SamplingPlan {
    /// diffusers' `discrete_timestep_cutoff = int(round(n - fraction * n))` (Python's round: half to even).
    public static func handoffCutoff(switchAt fraction: Double, trainTimesteps n: Int) throws -> Int {
        guard fraction.isFinite, fraction > 0, fraction < 1 else { throw SamplingError.invalidSwitch(fraction) }
        return Int((Double(n) - fraction * Double(n)).rounded(.toNearestOrEven))
    }

    /// Splits this plan at `fraction` of the training schedule. Each part is a plan of its own, as each
    /// diffusers pipeline restarts its scheduler: multistep history (DPM++ 2M, LMS) starts empty in the refiner
    /// part, whose steps keep their absolute index in the full schedule (`startIndex`), so LMS and DPM++ pick
    /// the order and coefficients diffusers picks there.
    ///
    /// - Steps are kept in the base while `t >= cutoff` (the timesteps fall, so that is a prefix) and the
    ///   refiner takes the rest, for timestep- (DDIM) and sigma-based samplers alike.
    /// - Heun reproduces diffusers' second-order quirk: its scheduler lists every timestep but the first twice,
    ///   so the base's filter ends on the first-order (Euler) half of the step that crosses the cutoff, and the
    ///   refiner's `+1` for order-2 schedulers makes it redo that whole step from the base's result. Here the
    ///   base's last step has no next timestep (so `HeunStepper` ends it with Euler) and the refiner starts one
    ///   step earlier than the cutoff.
    /// - On a strength-cut img2img plan both parts are cut from it: where the strength cut starts above the
    ///   cutoff this equals diffusers (its refiner ignores strength and takes the full schedule's tail, which is
    ///   the same steps); where it starts below, the base part is empty and the refiner runs the whole cut plan
    ///   (diffusers' refiner would instead start from the full tail, above where the latents were noised).
    /// - Not reproduced: diffusers' DPM++ SDE (DPMSolverSDEScheduler, also order 2) interleaves midpoint
    ///   timesteps, so a cutoff between a step's start and its midpoint ends the base on half a step; here the
    ///   split is always between whole steps for it.
    public func split(switchAt fraction: Double) throws -> PlanSplit {
        let cutoff = try Self.handoffCutoff(switchAt: fraction, trainTimesteps: noiseSchedule.config.numTrainTimesteps)
        let baseSteps = timesteps.prefix { $0 >= Double(cutoff) }.count
        let refinerStart = sampler == .heun && baseSteps >= 1 ? baseSteps - 1 : baseSteps
        return PlanSplit(base: slice(0..<baseSteps), refiner: slice(refinerStart..<steps), cutoff: cutoff)
    }

    /// Steps `range` of this plan as a plan of their own: the same schedule walked over `range.count` steps,
    /// starting at absolute index `startIndex + range.lowerBound`, leaving the loop as diffusers' scheduler does
    /// there (VP samplers: the VP latent at the part's last sigma). An empty range gives a plan that runs no step.
    public func slice(_ range: Range<Int>) -> SamplingPlan {
        precondition(range.lowerBound >= 0 && range.upperBound <= steps, "slice \(range) outside 0..<\(steps)")
        var part = self
        part.sigmas = Array(sigmas[range.lowerBound...range.upperBound])
        part.timesteps = Array(timesteps[range])
        part.targetSigmas = Array(targetSigmas[range])
        part.startIndex = startIndex + range.lowerBound
        if sampler.latentsAreVP {
            let last = part.sigmas[part.sigmas.count - 1]
            part.outputScale = 1 / (last * last + 1).squareRoot()
        }
        return part
    }

    /// This plan leaving the loop with its VE latent (`outputScale` 1): for a part whose result the next part
    /// continues from, since the loop's input is VE (converting to diffusers' VP latent and back would not
    /// be bit-exact).
    public var leavingVE: SamplingPlan {
        var part = self
        part.outputScale = 1
        return part
    }
}
