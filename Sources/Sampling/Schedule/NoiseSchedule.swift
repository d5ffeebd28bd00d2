import Foundation

/// A model's discrete training schedule: betas -> alphas_cumprod -> sigmas, in float32 as
/// diffusers builds them (torch.linspace in float32, cumprod accumulated in double with
/// float32 results, sigma = sqrt((1 - a) / a) in float32), plus the sigma <-> timestep maps.
public struct NoiseSchedule: Sendable {
    public let config: SchedulerConfig
    /// alphas_cumprod[t] for t = 0..<numTrainTimesteps.
    public let alphasCumprod: [Float]
    /// Training sigmas, ascending with t.
    public let sigmas: [Float]
    /// log of `sigmas` (float32, as diffusers' np.log of a float32 array).
    public let logSigmas: [Float]

    public init(config: SchedulerConfig) throws {
        guard config.numTrainTimesteps >= 2 else {
            throw SamplingError.invalidSchedulerConfig("num_train_timesteps must be >= 2, got \(config.numTrainTimesteps)")
        }
        guard config.betaStart > 0, config.betaEnd < 1, config.betaStart <= config.betaEnd else {
            throw SamplingError.invalidSchedulerConfig("betas must satisfy 0 < beta_start <= beta_end < 1 (got \(config.betaStart), \(config.betaEnd))")
        }
        self.config = config
        let n = config.numTrainTimesteps
        var betas: [Float]
        switch config.betaSchedule {
        case .linear:
            betas = Self.torchLinspace(Float(config.betaStart), Float(config.betaEnd), n)
        case .scaledLinear:
            betas = Self.torchLinspace(Float(config.betaStart.squareRoot()), Float(config.betaEnd.squareRoot()), n)
                .map { $0 * $0 }
        }
        if config.rescaleBetasZeroSNR { betas = Self.rescaledToZeroTerminalSNR(betas) }
        var cumprod = Self.cumprod(betas.map { 1 - $0 })
        if config.rescaleBetasZeroSNR {
            // diffusers' Euler/DPM schedulers replace the exact 0 by 2^-24 so sigma_max stays
            // finite (4096); the VE samplers here need that for every family (DDIM included,
            // where diffusers keeps the 0, so DDIM's first step differs slightly there).
            cumprod[n - 1] = 0x1p-24
        }
        alphasCumprod = cumprod
        sigmas = cumprod.map { ((1 - $0) / $0).squareRoot() }
        logSigmas = sigmas.map { Float(Foundation.log(Double($0))) }
    }

    public var sigmaMin: Double { Double(sigmas[0]) }
    public var sigmaMax: Double { Double(sigmas[sigmas.count - 1]) }

    /// VE sigma of an alphas_cumprod value.
    public static func sigma(alphaCumprod a: Double) -> Double { ((1 - a) / a).squareRoot() }

    /// diffusers' `_sigma_to_t`: linear interpolation of the timestep in log-sigma.
    public func timestep(sigma: Double) -> Double {
        let logSigma = Foundation.log(max(sigma, 1e-10))
        // Index of the last training log-sigma <= logSigma, clipped to leave room for high.
        var low = 0
        for (i, ls) in logSigmas.enumerated() where logSigma - Double(ls) >= 0 { low = i }
        low = min(low, logSigmas.count - 2)
        let lo = Double(logSigmas[low]), hi = Double(logSigmas[low + 1])
        let w = min(max((lo - logSigma) / (lo - hi), 0), 1)
        return (1 - w) * Double(low) + w * Double(low + 1)
    }

    /// np.interp(t, arange(n), sigmas): diffusers' sigma for a (possibly fractional) timestep.
    public func sigmaLinear(timestep t: Double) -> Double {
        let tc = min(max(t, 0), Double(sigmas.count - 1))
        let low = min(Int(tc.rounded(.down)), sigmas.count - 2)
        let w = tc - Double(low)
        return Double(sigmas[low]) * (1 - w) + Double(sigmas[low + 1]) * w
    }

    /// ComfyUI's `ModelSamplingDiscrete.sigma`: interpolation in log-sigma (used by the
    /// sgm_uniform and simple schedules, which come from ComfyUI).
    public func sigmaLogLinear(timestep t: Double) -> Double {
        let tc = min(max(t, 0), Double(sigmas.count - 1))
        let low = Int(tc.rounded(.down)), high = Int(tc.rounded(.up))
        let w = tc - Double(low)
        return Foundation.exp((1 - w) * Double(logSigmas[low]) + w * Double(logSigmas[high]))
    }

    /// torch.cumprod of a float32 tensor on CPU: accumulated in double, stored as float32.
    static func cumprod(_ values: [Float]) -> [Float] {
        var product = 1.0
        return values.map { v in
            product *= Double(v)
            return Float(product)
        }
    }

    /// diffusers' rescale_zero_terminal_snr, in its float32 operation order: shift and scale
    /// sqrt(alphas_cumprod) so the last is 0 and the first unchanged, then back to betas.
    static func rescaledToZeroTerminalSNR(_ betas: [Float]) -> [Float] {
        var sqrtBar = cumprod(betas.map { 1 - $0 }).map { $0.squareRoot() }
        let first = sqrtBar[0], last = sqrtBar[sqrtBar.count - 1]
        let scale = first / (first - last)
        sqrtBar = sqrtBar.map { ($0 - last) * scale }
        let bar = sqrtBar.map { $0 * $0 }
        var alphas = [bar[0]]
        for i in 1..<bar.count { alphas.append(bar[i] / bar[i - 1]) }
        return alphas.map { 1 - $0 }
    }

    /// torch.linspace(start, end, steps, dtype=float32) on CPU: float step, the first half
    /// counted up from start and the second half down from end.
    static func torchLinspace(_ start: Float, _ end: Float, _ steps: Int) -> [Float] {
        let step = (end - start) / Float(steps - 1)
        let halfway = steps / 2
        return (0..<steps).map { i in
            i < halfway ? start + step * Float(i) : end - step * Float(steps - i - 1)
        }
    }
}
