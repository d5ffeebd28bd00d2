#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// GroupNorm over x [N, C, ...]: statistics per (sample, group of C/groups channels), then a
/// per-channel affine transform, as torch.nn.GroupNorm (biased variance).
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(x.rank >= 2, "groupNorm: input \(x.shape) needs [N, C, ...]")
    let batch = x.shape[0], channels = x.shape[1]
    precondition(groups > 0 && channels % groups == 0,
                 "groupNorm: \(channels) channels of \(x.shape) not divisible into \(groups) groups")
    if let weight { precondition(weight.shape == [channels], "groupNorm: weight \(weight.shape) vs input \(x.shape)") }
    if let bias { precondition(bias.shape == [channels], "groupNorm: bias \(bias.shape) vs input \(x.shape)") }
    let spatial = batch * channels == 0 ? 0 : x.count / (batch * channels)
    let channelsPerGroup = channels / groups
    let groupSize = channelsPerGroup * spatial
    let result = Tensor(uninitializedShape: x.shape)
    let output = result.storage.pointer
    let input = UnsafePointer(x.storage.pointer)
    let gamma = weight.map { UnsafePointer($0.storage.pointer) }
    let beta = bias.map { UnsafePointer($0.storage.pointer) }
    Parallel.forEach(0..<(batch * groups)) { task in
        let group = task % groups
        let start = task * groupSize
        let (mean, rstd) = Normalization.statistics(input + start, groupSize, eps: eps)
        for c in 0..<channelsPerGroup {
            let channel = group * channelsPerGroup + c
            // y = x * scale + shift folds the normalisation and the affine transform.
            let g = gamma?[channel] ?? 1
            let scale = rstd * g
            let shift = (beta?[channel] ?? 0) - mean * scale
            let offset = start + c * spatial
            Normalization.affine(input + offset, output + offset, spatial, scale: scale, shift: shift)
        }
    }
    withExtendedLifetime((x, weight, bias)) {}
    return result
}

/// LayerNorm over the last dimension, as torch.nn.LayerNorm with normalized_shape = [D].
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    precondition(x.rank >= 1, "layerNorm: rank-0 tensor")
    let width = x.shape[x.rank - 1]
    if let weight { precondition(weight.shape == [width], "layerNorm: weight \(weight.shape) vs input \(x.shape)") }
    if let bias { precondition(bias.shape == [width], "layerNorm: bias \(bias.shape) vs input \(x.shape)") }
    let rows = width == 0 ? 0 : x.count / width
    let result = Tensor(uninitializedShape: x.shape)
    let output = result.storage.pointer
    let input = UnsafePointer(x.storage.pointer)
    let gamma = weight.map { UnsafePointer($0.storage.pointer) }
    let beta = bias.map { UnsafePointer($0.storage.pointer) }
    Parallel.forEachSlice(count: rows, grain: max(1, Elementwise.grain / max(1, width))) { range in
        for row in range {
            let source = input + row * width
            let target = output + row * width
            let (mean, rstd) = Normalization.statistics(source, width, eps: eps)
            for i in 0..<width {
                var y = (source[i] - mean) * rstd
                if let gamma { y *= gamma[i] }
                if let beta { y += beta[i] }
                target[i] = y
            }
        }
    }
    withExtendedLifetime((x, weight, bias)) {}
    return result
}

enum Normalization {
    /// Mean and 1/sqrt(biased variance + eps), two-pass for accuracy.
    @inline(__always)
    static func statistics(_ p: UnsafePointer<Float>, _ count: Int, eps: Float) -> (mean: Float, rstd: Float) {
        if count == 0 { return (0, 1 / sqrtf(eps)) }
        let mean = Reductions.sum(p, count) / Double(count)
        let variance = Reductions.squaredDeviation(p, count, mean: Float(mean)) / Double(count)
        return (Float(mean), Float(1 / (variance + Double(eps)).squareRoot()))
    }

    @inline(__always)
    static func affine(_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int,
                       scale: Float, shift: Float) {
        for i in 0..<count { output[i] = input[i] * scale + shift }
    }
}
