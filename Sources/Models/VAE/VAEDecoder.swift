import Tensor

/// diffusers' VAE `Decoder`: latents [N, latent, h, w] -> image [N, 3, 8h, 8w].
struct VAEDecoder {
    let convIn: Conv2D
    let mid: VAEMidBlock
    let blocks: [(resnets: [ResnetBlock2D], upsampler: Upsample2D?)]
    let normOut: GroupNorm
    let convOut: Conv2D

    init(_ scope: WeightScope, config: VAEConfig) throws {
        let reversed = Array(config.blockOutChannels.reversed())
        let groups = config.normNumGroups
        convIn = try Conv2D(scope["conv_in"], input: config.latentChannels, output: reversed[0], kernel: 3)
        mid = try VAEMidBlock(scope["mid_block"], channels: reversed[0], groups: groups,
                              addAttention: config.midBlockAddAttention)
        var built: [(resnets: [ResnetBlock2D], upsampler: Upsample2D?)] = []
        var output = reversed[0]
        for i in reversed.indices {
            let previous = output
            output = reversed[i]
            let block = scope["up_blocks"][i]
            let resnets = try (0..<(config.layersPerBlock + 1)).map {
                try ResnetBlock2D(block["resnets"][$0], input: $0 == 0 ? previous : output, output: output,
                                  timeEmbeddingChannels: nil, groups: groups, eps: 1e-6)
            }
            let upsampler = i == reversed.count - 1 ? nil : try Upsample2D(block["upsamplers"][0], channels: output, subpixel: true)
            built.append((resnets, upsampler))
        }
        blocks = built
        let first = config.blockOutChannels[0]
        normOut = try GroupNorm(scope["conv_norm_out"], groups: groups, channels: first, eps: 1e-6)
        convOut = try Conv2D(scope["conv_out"], input: first, output: config.outChannels, kernel: 3)
    }

    func callAsFunction(_ z: Tensor) -> Tensor {
        var h = mid(convIn(z))
        for block in blocks {
            for resnet in block.resnets { h = resnet(h, activatedTimeEmbedding: nil) }
            if let upsampler = block.upsampler { h = upsampler(h) }
        }
        return convOut(silu(normOut(h)))
    }
}
