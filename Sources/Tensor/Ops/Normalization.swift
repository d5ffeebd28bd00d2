import TensorKernels

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
            tk_scale_shift(input + offset, output + offset, spatial, scale, shift)
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
            tk_layer_norm_row(input + row * width, output + row * width, width, gamma, beta, eps)
        }
    }
    withExtendedLifetime((x, weight, bias)) {}
    return result
}

enum Normalization {
    /// Mean and 1/sqrt(biased variance + eps), two-pass for accuracy.
    @inline(__always)
    static func statistics(_ p: UnsafePointer<Float>, _ count: Int, eps: Float) -> (mean: Float, rstd: Float) {
        var mean: Double = 0, variance: Double = 0
        tk_moments(p, count, &mean, &variance)
        return (Float(mean), Float(1 / (variance + Double(eps)).squareRoot()))
    }
}
