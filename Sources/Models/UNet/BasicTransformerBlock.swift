import Tensor

/// diffusers' `BasicTransformerBlock` with layer norms: self-attention, cross-attention on the text
/// context, GEGLU feed-forward, each pre-normed and added back to the residual stream.
struct BasicTransformerBlock {
    let norm1: LayerNorm
    let selfAttention: CrossAttention
    let norm2: LayerNorm
    let crossAttention: CrossAttention
    let norm3: LayerNorm
    let feedForwardIn: Linear   // ff.net.0.proj: dim -> 2 × inner (GEGLU value and gate)
    let feedForwardOut: Linear  // ff.net.2: inner -> dim
    /// The token width (self-attention's context width).
    var dim: Int { norm1.weight.count }

    init(_ scope: WeightScope, dim: Int, contextDim: Int, heads: Int, headDim: Int) throws {
        let eps: Float = 1e-5  // BasicTransformerBlock's default norm_eps; UNet2DConditionModel never overrides it.
        norm1 = try LayerNorm(scope["norm1"], dim: dim, eps: eps)
        selfAttention = try CrossAttention(scope["attn1"], queryDim: dim, contextDim: dim, heads: heads, headDim: headDim)
        norm2 = try LayerNorm(scope["norm2"], dim: dim, eps: eps)
        crossAttention = try CrossAttention(scope["attn2"], queryDim: dim, contextDim: contextDim,
                                            heads: heads, headDim: headDim)
        norm3 = try LayerNorm(scope["norm3"], dim: dim, eps: eps)
        let inner = dim * 4
        feedForwardIn = try Linear(scope["ff"]["net"][0]["proj"], input: dim, output: inner * 2)
        feedForwardOut = try Linear(scope["ff"]["net"][2], input: inner, output: dim)
    }

    /// x [B, HW, dim], context [B, Lc, contextDim].
    func callAsFunction(_ x: Tensor, context: Tensor, hypernetworks: HypernetworkStack = .none) -> Tensor {
        afterSelfAttention(selfAttended(x, hypernetworks: hypernetworks), context: context, hypernetworks: hypernetworks)
    }

    /// The block up to its self-attention's residual: what depends on the tokens alone, not on the text.
    func selfAttended(_ x: Tensor, hypernetworks: HypernetworkStack = .none) -> Tensor {
        var h = selfAttention(norm1(x), hypernetworks: hypernetworks)
        h += x
        return h
    }

    /// The rest of the block from `selfAttended`'s output h: cross-attention and feed-forward.
    func afterSelfAttention(_ h: Tensor, context: Tensor, hypernetworks: HypernetworkStack = .none) -> Tensor {
        var h = h
        h += crossAttention(norm2(h), context: context, hypernetworks: hypernetworks)
        h += feedForwardOut(geglu(feedForwardIn(norm3(h))))
        return h
    }
}
