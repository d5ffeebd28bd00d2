import Tensor

/// A noise level as the sampler visits it: the VE sigma and the timestep the network is
/// conditioned on there (diffusers' timestep for that sigma, possibly fractional).
public struct SigmaPoint: Sendable, Equatable {
    public let sigma: Double
    public let timestep: Double

    public init(sigma: Double, timestep: Double) {
        self.sigma = sigma
        self.timestep = timestep
    }
}

/// The only thing samplers know about the model: VE latent at a sigma -> denoised latent.
/// Classifier-free guidance, ControlNet etc. live inside this callback (the pipeline's job).
public typealias DenoiseFunction = (Tensor, SigmaPoint) throws -> Tensor

/// Wraps a network that predicts eps or v from the scaled input into a `DenoiseFunction`.
public struct ModelDenoiser {
    public let parameterization: Parameterization
    /// (scaled input x * cIn, timestep) -> raw network output.
    public let model: (Tensor, Double) throws -> Tensor

    public init(parameterization: Parameterization, model: @escaping (Tensor, Double) throws -> Tensor) {
        self.parameterization = parameterization
        self.model = model
    }

    public func callAsFunction(_ x: Tensor, _ point: SigmaPoint) throws -> Tensor {
        // diffusers divides by sqrt(sigma^2 + 1) (scale_model_input).
        let input = x * Float(parameterization.cIn(sigma: point.sigma))
        let output = try model(input, point.timestep)
        guard output.shape == x.shape else {
            throw SamplingError.shapeMismatch(expected: x.shape, got: output.shape, context: "model output")
        }
        return parameterization.denoised(x: x, modelOutput: output, sigma: point.sigma)
    }

    public var function: DenoiseFunction { { try self($0, $1) } }
}
