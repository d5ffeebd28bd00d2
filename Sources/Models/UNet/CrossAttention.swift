import Tensor

/// diffusers' `Attention` as `BasicTransformerBlock` uses it: bias-free q/k/v projections, multi-head
/// scaled dot-product attention, biased output projection. Self-attention when no context is given.
struct CrossAttention {
    let query: Linear
    let key: Linear
    let value: Linear
    let out: Linear
    let heads: Int

    init(_ scope: WeightScope, queryDim: Int, contextDim: Int, heads: Int, headDim: Int) throws {
        let inner = heads * headDim
        query = try Linear(scope["to_q"], input: queryDim, output: inner, bias: false)
        key = try Linear(scope["to_k"], input: contextDim, output: inner, bias: false)
        value = try Linear(scope["to_v"], input: contextDim, output: inner, bias: false)
        out = try Linear(scope["to_out"][0], input: inner, output: queryDim)
        self.heads = heads
    }

    /// x [B, L, queryDim], context [B, Lc, contextDim] (or nil for self-attention) -> [B, L, queryDim].
    /// `hypernetworks` change the key and value inputs where they have a module of the context's width (A1111).
    func callAsFunction(_ x: Tensor, context: Tensor? = nil, hypernetworks: HypernetworkStack = .none) -> Tensor {
        let source = context ?? x
        guard !hypernetworks.isEmpty else {
            return out(scaledAttention(query: query(x), key: key(source), value: value(source), heads: heads))
        }
        let inputs = hypernetworks.apply(source)
        return out(scaledAttention(query: query(x), key: key(inputs.key), value: value(inputs.value), heads: heads))
    }
}
