import Tensor

/// diffusers' VAE `Encoder` (double_z): image [N, 3, H, W] -> moments [N, 2·latent, H/8, W/8].
struct VAEEncoder {
    let convIn: Conv2D
    let blocks: [(resnets: [ResnetBlock2D], downsampler: Downsample2D?)]
    let mid: VAEMidBlock
    let normOut: GroupNorm
    let convOut: Conv2D

    init(_ scope: WeightScope, config: VAEConfig) throws {
        let channels = config.blockOutChannels
        let groups = config.normNumGroups
        convIn = try Conv2D(scope["conv_in"], input: config.inChannels, output: channels[0], kernel: 3)
        var built: [(resnets: [ResnetBlock2D], downsampler: Downsample2D?)] = []
        var output = channels[0]
        for i in channels.indices {
            let input = output
            output = channels[i]
            let block = scope["down_blocks"][i]
            let resnets = try (0..<config.layersPerBlock).map {
                try ResnetBlock2D(block["resnets"][$0], input: $0 == 0 ? input : output, output: output,
                                  timeEmbeddingChannels: nil, groups: groups, eps: 1e-6)
            }
            let downsampler = i == channels.count - 1 ? nil
                : try Downsample2D(block["downsamplers"][0], channels: output, padding: 0)
            built.append((resnets, downsampler))
        }
        blocks = built
        let last = channels[channels.count - 1]
        mid = try VAEMidBlock(scope["mid_block"], channels: last, groups: groups, addAttention: config.midBlockAddAttention)
        normOut = try GroupNorm(scope["conv_norm_out"], groups: groups, channels: last, eps: 1e-6)
        convOut = try Conv2D(scope["conv_out"], input: last, output: 2 * config.latentChannels, kernel: 3)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = convIn(x)
        for block in blocks {
            for resnet in block.resnets { h = resnet(h, activatedTimeEmbedding: nil) }
            if let downsampler = block.downsampler { h = downsampler(h) }
        }
        h = mid(h)
        return convOut(silu(normOut(h)))
    }
}
