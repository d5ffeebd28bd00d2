import Tensor

/// What every UNet block needs from the step: SiLU(time embedding) and the text context.
struct UNetStepInputs {
    let activatedTimeEmbedding: Tensor
    let context: Tensor
    var hypernetworks: HypernetworkStack = .none
}

/// `CrossAttnDownBlock2D` (with `attentions`) or `DownBlock2D` (without): resnets, optional transformers,
/// optional stride-2 downsampler. Every intermediate output is pushed as a skip connection.
struct UNetDownBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let downsampler: Downsample2D?

    /// `adapterFeature`: a T2I-Adapter feature added where diffusers adds it (see `UNetConditioning.adapterFeatures`);
    /// the caller checked its shape with `adapterFeatureShape`.
    ///
    /// `halvesOf`: x is the first half of a batch whose halves are the same, as are the halves of the time
    /// embedding (`IdenticalHalves`): the first resnet and its transformer's self-attention run on that half only.
    func callAsFunction(_ x: Tensor, _ inputs: UNetStepInputs, skips: inout [Tensor], adapterFeature: Tensor? = nil,
                        halvesOf: Bool = false) -> Tensor {
        var h = x
        for (index, resnet) in resnets.enumerated() {
            if halvesOf && index == 0 {
                h = resnet(h, activatedTimeEmbedding: IdenticalHalves.firstHalf(inputs.activatedTimeEmbedding))
                h = index < attentions.count
                    ? attentions[index](h, context: inputs.context, hypernetworks: inputs.hypernetworks, halvesOf: true)
                    : IdenticalHalves.doubled(h)
            } else {
                h = resnet(h, activatedTimeEmbedding: inputs.activatedTimeEmbedding)
                if index < attentions.count { h = attentions[index](h, context: inputs.context, hypernetworks: inputs.hypernetworks) }
            }
            if let adapterFeature, !attentions.isEmpty, index == resnets.count - 1 { h = h + adapterFeature }
            skips.append(h)
        }
        if let downsampler {
            h = downsampler(h)
            skips.append(h)
        }
        if let adapterFeature, attentions.isEmpty {
            // diffusers adds in place to the block's output, the same tensor as its last skip.
            h = h + adapterFeature
            skips[skips.count - 1] = h
        }
        return h
    }

    /// Where a block adds an adapter feature: its last resnet/attention output (cross-attention blocks), else
    /// its output. `input` is the block input's shape.
    func adapterFeatureShape(input: [Int], channels: Int) -> [Int] {
        let shape = [input[0], channels, input[2], input[3]]
        guard attentions.isEmpty, let downsampler else { return shape }
        return downsampler.outputShape(shape)
    }
}

/// `UNetMidBlock2DCrossAttn`: resnet, then (transformer, resnet) pairs.
struct UNetMidBlock {
    let first: ResnetBlock2D
    let attentions: [Transformer2D]
    let resnets: [ResnetBlock2D]

    func callAsFunction(_ x: Tensor, _ inputs: UNetStepInputs) -> Tensor {
        var h = first(x, activatedTimeEmbedding: inputs.activatedTimeEmbedding)
        for (attention, resnet) in zip(attentions, resnets) {
            h = attention(h, context: inputs.context, hypernetworks: inputs.hypernetworks)
            h = resnet(h, activatedTimeEmbedding: inputs.activatedTimeEmbedding)
        }
        return h
    }
}

/// `CrossAttnUpBlock2D` / `UpBlock2D`: each resnet consumes the newest skip (channel concat), optional
/// transformers, optional upsampler (to the next skip's size when the latent side is not a power-of-two multiple).
struct UNetUpBlock {
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let upsampler: Upsample2D?

    func callAsFunction(_ x: Tensor, _ inputs: UNetStepInputs, skips: inout [Tensor],
                        matchSkipSize: Bool) -> Tensor {
        var h = x
        for (index, resnet) in resnets.enumerated() {
            // The UNet checked the skip count against the architecture before the pass began.
            let skip = skips.removeLast()
            h = resnet(concat([h, skip], axis: 1), activatedTimeEmbedding: inputs.activatedTimeEmbedding)
            if index < attentions.count { h = attentions[index](h, context: inputs.context, hypernetworks: inputs.hypernetworks) }
        }
        if let upsampler {
            if matchSkipSize, let next = skips.last {
                h = upsampler(h, size: (next.shape[2], next.shape[3]))
            } else {
                h = upsampler(h)
            }
        }
        return h
    }
}
