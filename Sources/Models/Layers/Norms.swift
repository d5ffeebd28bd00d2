import Tensor

/// `nn.GroupNorm` with affine parameters.
struct GroupNorm {
    let groups: Int
    let eps: Float
    let weight: Tensor
    let bias: Tensor

    init(_ scope: WeightScope, groups: Int, channels: Int, eps: Float) throws {
        guard groups > 0, channels % groups == 0 else {
            throw ModelLoadError.invalidConfig("\(scope.path): \(channels) channels are not divisible into \(groups) groups")
        }
        self.groups = groups
        self.eps = eps
        weight = try scope.tensor("weight", shape: [channels])
        bias = try scope.tensor("bias", shape: [channels])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps)
    }
}

/// `nn.LayerNorm` over the last dimension, with affine parameters.
struct LayerNorm {
    let eps: Float
    let weight: Tensor
    let bias: Tensor

    init(_ scope: WeightScope, dim: Int, eps: Float) throws {
        self.eps = eps
        weight = try scope.tensor("weight", shape: [dim])
        bias = try scope.tensor("bias", shape: [dim])
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        layerNorm(x, weight: weight, bias: bias, eps: eps)
    }
}
