import Foundation
import Tensor

/// Classifier-free guidance on the network's raw output (eps or v), as diffusers' Stable
/// Diffusion pipelines do it before the scheduler sees the prediction:
/// `uncond + scale * (cond - uncond)`, then optionally `rescale_noise_cfg` (Lin et al. 2023,
/// for v-prediction / zero-terminal-SNR models): blend in the guided output rescaled to the
/// conditional output's per-sample standard deviation.
public struct ClassifierFreeGuidance: Sendable {
    public let scale: Double
    /// diffusers' `guidance_rescale` in [0, 1]; 0 disables it.
    public let rescale: Double

    public init(scale: Double, rescale: Double = 0) {
        self.scale = scale
        self.rescale = rescale
    }

    /// With a scale of 1 (or less) diffusers skips the unconditional pass entirely.
    public var needsUnconditional: Bool { scale > 1 }

    public func combine(unconditional: Tensor, conditional: Tensor) throws -> Tensor {
        guard unconditional.shape == conditional.shape else {
            throw SamplingError.shapeMismatch(expected: conditional.shape, got: unconditional.shape,
                                              context: "unconditional prediction")
        }
        let guided = unconditional + (conditional - unconditional) * Float(scale)
        guard rescale > 0 else { return guided }
        let stdCond = Self.perSampleStd(conditional)
        let stdGuided = Self.perSampleStd(guided)
        let batch = guided.shape.first ?? 1
        let per = guided.count / max(batch, 1)
        var out = Tensor(uninitializedShape: guided.shape)
        let phi = Float(rescale)
        guided.withUnsafeBufferPointer { g in
            out.withUnsafeMutableBufferPointer { o in
                for b in 0..<batch {
                    let ratio = stdCond[b] / stdGuided[b]
                    for i in (b * per)..<((b + 1) * per) {
                        // guidance_rescale * (cfg * ratio) + (1 - guidance_rescale) * cfg
                        o[i] = phi * (g[i] * ratio) + (1 - phi) * g[i]
                    }
                }
            }
        }
        return out
    }

    /// torch's `std(dim=1..., unbiased)` per batch element.
    static func perSampleStd(_ x: Tensor) -> [Float] {
        let batch = x.shape.first ?? 1
        let per = x.count / max(batch, 1)
        return x.withUnsafeBufferPointer { p in
            (0..<batch).map { b in
                let slice = p[(b * per)..<((b + 1) * per)]
                let mean = slice.reduce(0.0) { $0 + Double($1) } / Double(per)
                let ss = slice.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
                return Float((ss / Double(max(per - 1, 1))).squareRoot())
            }
        }
    }
}
