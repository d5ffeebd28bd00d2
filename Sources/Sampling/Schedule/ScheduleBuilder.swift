import Foundation

/// The timestep/sigma recipes of the diffusers schedulers, one per family.
struct ScheduleBuilder {
    struct Raw {
        var sigmas: [Double]       // steps + 1
        var timesteps: [Double]    // steps
        var targets: [Double]?     // steps (DDIM only)
        var fullMaxSigma: Double

        func dropping(first n: Int) -> Raw {
            Raw(sigmas: Array(sigmas.dropFirst(n)), timesteps: Array(timesteps.dropFirst(n)),
                targets: targets.map { Array($0.dropFirst(n)) }, fullMaxSigma: fullMaxSigma)
        }
    }

    let schedule: NoiseSchedule
    let steps: Int
    private var trainSteps: Int { schedule.config.numTrainTimesteps }
    private var config: SchedulerConfig { schedule.config }

    /// float32 rounding, as diffusers stores sigmas/timesteps in float32 tensors.
    private static func f32(_ x: Double) -> Double { Double(Float(x)) }

    /// numpy.arange(start, 0, -step) for a float step.
    private static func aranceDown(from start: Double, step: Double) -> [Double] {
        let count = Int(((0 - start) / -step).rounded(.up))
        return (0..<max(count, 0)).map { start + Double($0) * -step }
    }

    /// numpy.linspace(a, b, n) (endpoint included).
    private static func linspace(_ a: Double, _ b: Double, _ n: Int) -> [Double] {
        if n == 1 { return [a] }
        let step = (b - a) / Double(n - 1)
        return (0..<n).map { i in i == n - 1 ? b : a + Double(i) * step }
    }

    /// Python's round() / numpy's rint: half to even.
    private static func rint(_ x: Double) -> Double { x.rounded(.toNearestOrEven) }

    // MARK: Euler / Euler a / Heun / LMS / DPM++ SDE (EulerDiscreteScheduler.set_timesteps)

    func karrasDiscrete(_ kind: SigmaScheduleKind) -> Raw {
        var ts: [Double]
        switch config.timestepSpacing {
        case .linspace:
            ts = Self.linspace(0, Double(trainSteps - 1), steps).map { Self.f32($0) }.reversed()
        case .leading:
            let ratio = trainSteps / steps
            ts = (0..<steps).map { Double($0 * ratio) }.reversed().map { $0 + Double(config.stepsOffset) }
        case .trailing:
            ts = Self.aranceDown(from: Double(trainSteps), step: Double(trainSteps) / Double(steps))
                .map { Self.rint($0) - 1 }
        }
        var sigmas = ts.map { schedule.sigmaLinear(timestep: $0) }
        switch kind {
        case .karras:
            sigmas = Self.karras(min: sigmas[sigmas.count - 1], max: sigmas[0], steps)
            ts = sigmas.map { schedule.timestep(sigma: $0) }
        case .exponential:
            sigmas = Self.exponential(min: sigmas[sigmas.count - 1], max: sigmas[0], steps)
            ts = sigmas.map { schedule.timestep(sigma: $0) }
        default: break
        }
        let s = (sigmas + [0]).map { Self.f32($0) }
        return Raw(sigmas: s, timesteps: ts.map { Self.f32($0) }, targets: nil, fullMaxSigma: s.max() ?? 0)
    }

    // MARK: DPM++ 2M / 2M SDE (DPMSolverMultistepScheduler.set_timesteps)

    func dpmMultistep(_ kind: SigmaScheduleKind) -> Raw {
        var ts: [Double]
        switch config.timestepSpacing {
        case .linspace:
            ts = Array(Self.linspace(0, Double(trainSteps - 1), steps + 1).map(Self.rint).reversed().dropLast())
        case .leading:
            let ratio = trainSteps / (steps + 1)
            ts = Array((0...steps).map { Double($0 * ratio) }.reversed().dropLast())
                .map { $0 + Double(config.stepsOffset) }
        case .trailing:
            ts = Self.aranceDown(from: Double(trainSteps), step: Double(trainSteps) / Double(steps))
                .map { Self.rint($0) - 1 }
        }
        var sigmas: [Double]
        let lo = schedule.sigmaMin, hi = schedule.sigmaMax
        switch kind {
        case .karras:
            sigmas = Self.karras(min: lo, max: hi, steps)
            ts = sigmas.map { Self.rint(schedule.timestep(sigma: $0)) }
        case .exponential:
            sigmas = Self.exponential(min: lo, max: hi, steps)
            // Unrounded here in diffusers; the int64 timestep tensor truncates.
            ts = sigmas.map { schedule.timestep(sigma: $0).rounded(.towardZero) }
        default:
            sigmas = ts.map { schedule.sigmaLinear(timestep: $0) }
        }
        let s = (sigmas + [0]).map { Self.f32($0) }
        return Raw(sigmas: s, timesteps: ts, targets: nil, fullMaxSigma: s.max() ?? 0)
    }

    // MARK: DDIM (DDIMScheduler.set_timesteps / step)

    func ddim() -> Raw {
        let ratio = trainSteps / steps
        let ts: [Double]
        switch config.timestepSpacing {
        case .leading:
            ts = (0..<steps).map { Double($0 * ratio) }.reversed().map { $0 + Double(config.stepsOffset) }
        case .linspace:
            ts = Self.linspace(0, Double(trainSteps - 1), steps).map(Self.rint).reversed()
        case .trailing:
            ts = Self.aranceDown(from: Double(trainSteps), step: Double(trainSteps) / Double(steps))
                .map { Self.rint($0) - 1 }
        }
        let finalAlpha = config.setAlphaToOne ? 1.0 : Double(schedule.alphasCumprod[0])
        func sigma(_ t: Int) -> Double {
            let a = t >= 0 ? Double(schedule.alphasCumprod[min(t, trainSteps - 1)]) : finalAlpha
            return NoiseSchedule.sigma(alphaCumprod: a)
        }
        let sigmas = ts.map { sigma(Int($0)) }
        let targets = ts.map { sigma(Int($0) - ratio) }
        let all = sigmas + [targets[targets.count - 1]]
        return Raw(sigmas: all, timesteps: ts, targets: targets, fullMaxSigma: all.max() ?? 0)
    }

    // MARK: LCM (LCMScheduler.set_timesteps)

    func lcm(strength: Double) throws -> Raw {
        let original = config.originalInferenceSteps
        let k = trainSteps / original
        let originCount = Int(Double(original) * strength)
        guard originCount >= 1 else { throw SamplingError.invalidStrength(strength) }
        let origin = (1...originCount).map { $0 * k - 1 }.reversed().map { $0 }
        guard steps <= origin.count else {
            throw SamplingError.unsupportedCombination(sampler: "lcm", schedule: "normal",
                reason: "\(steps) steps exceed the \(origin.count) distillation timesteps")
        }
        let ts = (0..<steps).map { i -> Double in
            let index = Int((Double(origin.count) * Double(i) / Double(steps)).rounded(.down))
            return Double(origin[index])
        }
        let sigmas = ts.map { NoiseSchedule.sigma(alphaCumprod: Double(schedule.alphasCumprod[Int($0)])) } + [0]
        return Raw(sigmas: sigmas, timesteps: ts, targets: nil, fullMaxSigma: sigmas.max() ?? 0)
    }

    // MARK: schedules diffusers does not have (sgm_uniform, simple) and DDIM with karras/exponential

    func generic(_ kind: SigmaScheduleKind, roundTimesteps: Bool) -> Raw {
        let lo = schedule.sigmaMin, hi = schedule.sigmaMax
        var sigmas: [Double]
        switch kind {
        case .karras: sigmas = Self.karras(min: lo, max: hi, steps)
        case .exponential: sigmas = Self.exponential(min: lo, max: hi, steps)
        case .sgmUniform:
            let start = schedule.timestep(sigma: hi), end = schedule.timestep(sigma: lo)
            sigmas = Self.linspace(start, end, steps + 1).dropLast().map { schedule.sigmaLogLinear(timestep: $0) }
        case .simple:
            let n = schedule.sigmas.count
            let stride = Double(n) / Double(steps)
            sigmas = (0..<steps).map { Double(schedule.sigmas[n - 1 - Int(Double($0) * stride)]) }
        case .normal:
            sigmas = Self.linspace(Double(trainSteps - 1), 0, steps).map { schedule.sigmaLinear(timestep: $0) }
        }
        var ts = sigmas.map { schedule.timestep(sigma: $0) }
        if roundTimesteps { ts = ts.map(Self.rint) }
        let s = (sigmas + [0]).map { Self.f32($0) }
        return Raw(sigmas: s, timesteps: ts.map { Self.f32($0) }, targets: nil, fullMaxSigma: s.max() ?? 0)
    }

    static func karras(min: Double, max: Double, _ n: Int, rho: Double = 7) -> [Double] {
        let minInv = pow(min, 1 / rho), maxInv = pow(max, 1 / rho)
        return linspace(0, 1, n).map { pow(maxInv + $0 * (minInv - maxInv), rho) }
    }

    static func exponential(min: Double, max: Double, _ n: Int) -> [Double] {
        linspace(Foundation.log(max), Foundation.log(min), n).map { Foundation.exp($0) }
    }
}
