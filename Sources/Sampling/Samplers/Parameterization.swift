import Tensor

/// What the network predicts, and how that becomes the denoised latent (k-diffusion's
/// DiscreteEpsDDPMDenoiser / DiscreteVDDPMDenoiser): with VE input x at noise level sigma,
/// the network sees `x * cIn` and `denoised = x * cSkip + output * cOut`.
public enum Parameterization: Sendable {
    case epsilon
    case vPrediction

    public init(_ type: SchedulerConfig.PredictionType) {
        switch type {
        case .epsilon: self = .epsilon
        case .vPrediction: self = .vPrediction
        }
    }

    public func cIn(sigma: Double) -> Double { 1 / (sigma * sigma + 1).squareRoot() }

    public func cSkip(sigma: Double) -> Double {
        switch self {
        case .epsilon: return 1
        case .vPrediction: return 1 / (sigma * sigma + 1)
        }
    }

    public func cOut(sigma: Double) -> Double {
        switch self {
        case .epsilon: return -sigma
        case .vPrediction: return -sigma / (sigma * sigma + 1).squareRoot()
        }
    }

    /// The same arithmetic order as diffusers' schedulers (`sample - sigma * eps` and
    /// `v * (-sigma / sqrt(sigma^2 + 1)) + sample / (sigma^2 + 1)`).
    public func denoised(x: Tensor, modelOutput: Tensor, sigma: Double) -> Tensor {
        switch self {
        case .epsilon:
            return x - modelOutput * Float(sigma)
        case .vPrediction:
            // float32 scalars as diffusers' 0-dim sigma tensor produces them.
            let s = Float(sigma)
            let s2p1 = s * s + 1
            return modelOutput * (-s / s2p1.squareRoot()) + x.divided(by: s2p1)
        }
    }
}
