import Tensor

/// diffusers' `down_block_additional_residuals` and `mid_block_additional_residual`: what a ControlNet (or
/// an adapter) adds to the UNet's activations. `down[i]` is added to the i-th skip connection (conv_in's
/// output first, then each resnet/attention output and downsampler output in order) before the up blocks
/// consume it; `mid` is added to the mid block's output.
public struct ControlResiduals {
    /// One tensor per skip connection, each of that skip's shape.
    public var down: [Tensor]
    /// The mid block output's shape.
    public var mid: Tensor

    public init(down: [Tensor], mid: Tensor) {
        self.down = down
        self.mid = mid
    }
}
