import Tensor

/// `UNetMidBlock2D` as the VAE uses it: resnet, (attention, resnet); no time embedding.
struct VAEMidBlock {
    let first: ResnetBlock2D
    let attention: VAEAttention?
    let second: ResnetBlock2D

    init(_ scope: WeightScope, channels: Int, groups: Int, addAttention: Bool) throws {
        first = try ResnetBlock2D(scope["resnets"][0], input: channels, output: channels,
                                  timeEmbeddingChannels: nil, groups: groups, eps: 1e-6)
        attention = addAttention ? try VAEAttention(scope["attentions"][0], channels: channels, groups: groups) : nil
        second = try ResnetBlock2D(scope["resnets"][1], input: channels, output: channels,
                                   timeEmbeddingChannels: nil, groups: groups, eps: 1e-6)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = first(x, activatedTimeEmbedding: nil)
        if let attention { h = attention(h) }
        return second(h, activatedTimeEmbedding: nil)
    }
}
