import Tensor

/// diffusers' `ResnetBlock2D` ("default" time-embedding norm): GroupNorm-SiLU-conv, + projected time
/// embedding, GroupNorm-SiLU-conv, plus a 1×1 shortcut when the channel count changes.
struct ResnetBlock2D {
    let norm1: GroupNorm
    let conv1: Conv2D
    let timeProjection: Linear?
    let norm2: GroupNorm
    let conv2: Conv2D
    let shortcut: Conv2D?
    /// The block divides its output by this (UNet mid blocks' `mid_block_scale_factor`); 1 skips the divide.
    let outputScale: Float

    init(_ scope: WeightScope, input: Int, output: Int, timeEmbeddingChannels: Int?,
         groups: Int, eps: Float, outputScale: Float = 1) throws {
        norm1 = try GroupNorm(scope["norm1"], groups: groups, channels: input, eps: eps)
        conv1 = try Conv2D(scope["conv1"], input: input, output: output, kernel: 3)
        timeProjection = try timeEmbeddingChannels.map {
            try Linear(scope["time_emb_proj"], input: $0, output: output)
        }
        norm2 = try GroupNorm(scope["norm2"], groups: groups, channels: output, eps: eps)
        conv2 = try Conv2D(scope["conv2"], input: output, output: output, kernel: 3)
        shortcut = input != output ? try Conv2D(scope["conv_shortcut"], input: input, output: output, kernel: 1) : nil
        self.outputScale = outputScale
    }

    /// x [N, C, H, W]; `activatedTimeEmbedding` is SiLU(temb) [N, T] (the same for every block, so the
    /// caller applies the SiLU once per step).
    func callAsFunction(_ x: Tensor, activatedTimeEmbedding: Tensor?) -> Tensor {
        var h = conv1(silu(norm1(x)))
        if let timeProjection, let temb = activatedTimeEmbedding {
            addPerSampleChannelBias(&h, timeProjection(temb))
        }
        h = conv2(silu(norm2(h)))
        // h is ours alone, so the residual add reuses its buffer.
        h += shortcut.map { $0(x) } ?? x
        if outputScale != 1 { h.scaleInPlace(1 / outputScale) }
        return h
    }
}
