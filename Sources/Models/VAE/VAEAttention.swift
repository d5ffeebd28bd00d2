import Tensor

/// The VAE mid block's spatial self-attention (diffusers `Attention` with one head of the full channel
/// width, GroupNorm eps 1e-6, biased projections, residual connection).
struct VAEAttention {
    let norm: GroupNorm
    let query: Linear
    let key: Linear
    let value: Linear
    let out: Linear

    init(_ scope: WeightScope, channels: Int, groups: Int) throws {
        norm = try GroupNorm(scope["group_norm"], groups: groups, channels: channels, eps: 1e-6)
        query = try Linear(scope["to_q"], input: channels, output: channels)
        key = try Linear(scope["to_k"], input: channels, output: channels)
        value = try Linear(scope["to_v"], input: channels, output: channels)
        out = try Linear(scope["to_out"][0], input: channels, output: channels)
    }

    /// x [N, C, H, W] -> [N, C, H, W]
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let tokens = norm(x).reshaped([n, c, h * w]).permuted([0, 2, 1])
        let attended = out(scaledAttention(query: query(tokens), key: key(tokens), value: value(tokens), heads: 1))
        var spatial = attended.permuted([0, 2, 1]).reshaped([n, c, h, w])
        spatial += x
        return spatial
    }
}
