#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sinusoidal timestep embedding [N, dim], as diffusers' `get_timestep_embedding`:
/// frequencies exp(-ln(maxPeriod) * i / (dim/2 - downscaleFreqShift)), then [sin, cos]
/// (or [cos, sin] with flipSinToCos), zero-padded by one column when dim is odd.
/// Every step is rounded to float32 where PyTorch's float32 tensors round.
public func timestepEmbedding(timesteps: [Float], dim: Int, flipSinToCos: Bool,
                              downscaleFreqShift: Float, maxPeriod: Float = 10000) -> Tensor {
    precondition(dim >= 0, "timestepEmbedding: negative dim \(dim)")
    let half = dim / 2
    let logPeriod = Float(-log(Double(maxPeriod)))
    let denominator = Float(half) - downscaleFreqShift
    var frequencies = [Float](repeating: 0, count: half)
    for i in 0..<half {
        let exponent = (logPeriod * Float(i)) / denominator
        // exp in double then rounded: the correctly rounded float, as torch's vectorised exp gives.
        frequencies[i] = Float(exp(Double(exponent)))
    }
    var values = [Float](repeating: 0, count: timesteps.count * dim)
    for (n, t) in timesteps.enumerated() {
        let row = n * dim
        for i in 0..<half {
            let argument = t * frequencies[i]
            let s = Float(sin(Double(argument)))
            let c = Float(cos(Double(argument)))
            values[row + i] = flipSinToCos ? c : s
            values[row + half + i] = flipSinToCos ? s : c
        }
    }
    return Tensor(shape: [timesteps.count, dim], values: values)
}
