import Tensor

/// One pre-LayerNorm transformer layer of CLIP's text tower (`CLIPEncoderLayer`).
struct CLIPEncoderLayer {
    let layerNorm1: LayerNorm
    let query: Linear
    let key: Linear
    let value: Linear
    let out: Linear
    let layerNorm2: LayerNorm
    let fc1: Linear
    let fc2: Linear
    let activation: Activation
    let heads: Int

    init(_ scope: WeightScope, config: CLIPTextConfig, activation: Activation) throws {
        let d = config.hiddenSize
        let attention = scope["self_attn"]
        layerNorm1 = try LayerNorm(scope["layer_norm1"], dim: d, eps: config.layerNormEps)
        query = try Linear(attention["q_proj"], input: d, output: d)
        key = try Linear(attention["k_proj"], input: d, output: d)
        value = try Linear(attention["v_proj"], input: d, output: d)
        out = try Linear(attention["out_proj"], input: d, output: d)
        layerNorm2 = try LayerNorm(scope["layer_norm2"], dim: d, eps: config.layerNormEps)
        fc1 = try Linear(scope["mlp"]["fc1"], input: d, output: config.intermediateSize)
        fc2 = try Linear(scope["mlp"]["fc2"], input: config.intermediateSize, output: d)
        self.activation = activation
        heads = config.numAttentionHeads
    }

    /// Checks (and consumes) a layer's tensors without keeping them: for checkpoint layers past the output layer.
    static func validate(_ scope: WeightScope, config: CLIPTextConfig) throws {
        let d = config.hiddenSize
        for name in ["layer_norm1", "layer_norm2"] {
            try scope[name].validate("weight", shape: [d])
            try scope[name].validate("bias", shape: [d])
        }
        for name in ["q_proj", "k_proj", "v_proj", "out_proj"] {
            try scope["self_attn"][name].validate("weight", shape: [d, d])
            try scope["self_attn"][name].validate("bias", shape: [d])
        }
        try scope["mlp"]["fc1"].validate("weight", shape: [config.intermediateSize, d])
        try scope["mlp"]["fc1"].validate("bias", shape: [config.intermediateSize])
        try scope["mlp"]["fc2"].validate("weight", shape: [d, config.intermediateSize])
        try scope["mlp"]["fc2"].validate("bias", shape: [d])
    }

    /// x [B, L, D] -> [B, L, D]; `mask` is the additive causal mask [L, L].
    func callAsFunction(_ x: Tensor, mask: Tensor) -> Tensor {
        let normed = layerNorm1(x)
        var hidden = out(scaledAttention(query: query(normed), key: key(normed), value: value(normed),
                                   heads: heads, mask: mask))
        hidden += x
        hidden += fc2(activation(fc1(layerNorm2(hidden))))
        return hidden
    }
}
