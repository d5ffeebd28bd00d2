import Tensor

/// diffusers' `Transformer2DModel` for continuous inputs: GroupNorm (eps 1e-6), project in, transformer
/// blocks over the H×W tokens, project out, residual.
///
/// `proj_in`/`proj_out` are 1×1 convolutions (SD1) or linears (SD2, `use_linear_projection`). Both are
/// applied here as linears on channels-last tokens — the same sums — so the two variants share one path.
struct Transformer2D {
    let norm: GroupNorm
    let projectIn: Linear
    let blocks: [BasicTransformerBlock]
    let projectOut: Linear

    init(_ scope: WeightScope, channels: Int, heads: Int, contextDim: Int, layers: Int,
         groups: Int, linearProjection: Bool) throws {
        guard heads > 0, channels % heads == 0 else {
            throw ModelLoadError.invalidConfig("\(scope.path): \(channels) channels not divisible by \(heads) heads")
        }
        let headDim = channels / heads
        let inner = heads * headDim
        norm = try GroupNorm(scope["norm"], groups: groups, channels: channels, eps: 1e-6)
        if linearProjection {
            projectIn = try Linear(scope["proj_in"], input: channels, output: inner)
            projectOut = try Linear(scope["proj_out"], input: inner, output: channels)
        } else {
            projectIn = try Linear(conv1x1: scope["proj_in"], input: channels, output: inner)
            projectOut = try Linear(conv1x1: scope["proj_out"], input: inner, output: channels)
        }
        blocks = try (0..<layers).map {
            try BasicTransformerBlock(scope["transformer_blocks"][$0], dim: inner, contextDim: contextDim,
                                      heads: heads, headDim: headDim)
        }
    }

    /// x [B, C, H, W], context [B, Lc, contextDim] -> [B, C, H, W].
    ///
    /// `halvesOf`: x is the first half of a batch of B = 2 × x's whose two halves are the same (`IdenticalHalves`):
    /// everything before the first cross-attention runs on that half only, then the tokens are doubled. The
    /// output is the whole batch's, as if x had been doubled first.
    func callAsFunction(_ x: Tensor, context: Tensor, hypernetworks: HypernetworkStack = .none,
                        halvesOf: Bool = false) -> Tensor {
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var tokens = projectIn(norm(x).reshaped([b, c, h * w]).permuted([0, 2, 1]))
        var remaining = blocks[...]
        var residual = x
        if halvesOf, let first = remaining.popFirst() {
            tokens = IdenticalHalves.doubled(first.selfAttended(tokens, hypernetworks: hypernetworks))
            tokens = first.afterSelfAttention(tokens, context: context, hypernetworks: hypernetworks)
            residual = IdenticalHalves.doubled(x)
        } else if halvesOf {
            tokens = IdenticalHalves.doubled(tokens)
            residual = IdenticalHalves.doubled(x)
        }
        for block in remaining {
            tokens = block(tokens, context: context, hypernetworks: hypernetworks)
        }
        var spatial = projectOut(tokens).permuted([0, 2, 1]).reshaped([residual.shape[0], c, h, w])
        spatial += residual
        return spatial
    }
}
