import Tensor

/// diffusers' `ControlNetConditioningEmbedding` (LDM's `input_hint_block`): the control image at full
/// resolution brought down to latent size and conv_in's width. conv_in → SiLU, then per level a 3×3 conv →
/// SiLU and a stride-2 3×3 conv to the next width → SiLU, then the (zero-initialised in training) conv_out.
struct ControlNetConditioningEmbedding: Sendable {
    let convIn: Conv2D
    let blocks: [Conv2D]
    let convOut: Conv2D

    init(_ scope: WeightScope, conditioningChannels: Int, channels: [Int], outputChannels: Int) throws {
        try requirePositive([conditioningChannels], "conditioning_channels")
        try requirePositive(channels, "conditioning_embedding_out_channels")
        guard let first = channels.first, let last = channels.last else {
            throw ModelLoadError.invalidConfig("conditioning_embedding_out_channels must not be empty")
        }
        convIn = try Conv2D(scope["conv_in"], input: conditioningChannels, output: first, kernel: 3)
        var blocks: [Conv2D] = []
        for i in 0..<(channels.count - 1) {
            blocks.append(try Conv2D(scope["blocks"][2 * i], input: channels[i], output: channels[i], kernel: 3))
            blocks.append(try Conv2D(scope["blocks"][2 * i + 1], input: channels[i], output: channels[i + 1],
                                     kernel: 3, stride: 2))
        }
        self.blocks = blocks
        convOut = try Conv2D(scope["conv_out"], input: last, output: outputChannels, kernel: 3)
    }

    /// Factor the image side shrinks by: one stride-2 conv per level after the first.
    var downscale: Int { 1 << (blocks.count / 2) }

    func callAsFunction(_ image: Tensor) -> Tensor {
        var h = silu(convIn(image))
        for block in blocks { h = silu(block(h)) }
        return convOut(h)
    }
}
