import Tensor

/// diffusers' `Downsample2D` with a convolution: 3×3 stride 2. UNets pad 1 on every side; the VAE
/// encoder uses `padding=0`, which diffusers implements as a (0, 1, 0, 1) zero pad before the conv.
struct Downsample2D {
    let conv: Conv2D
    let padBottomRightOnly: Bool

    init(_ scope: WeightScope, channels: Int, padding: Int) throws {
        conv = try Conv2D(scope["conv"], input: channels, output: channels, kernel: 3, stride: 2, padding: padding)
        padBottomRightOnly = padding == 0
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        padBottomRightOnly ? conv(paddingBottomRight(x)) : conv(x)
    }
}

/// diffusers' `Upsample2D` with a convolution: nearest-neighbour 2× (or to an explicit size) then 3×3 conv.
struct Upsample2D {
    let conv: Conv2D

    init(_ scope: WeightScope, channels: Int) throws {
        conv = try Conv2D(scope["conv"], input: channels, output: channels, kernel: 3)
    }

    func callAsFunction(_ x: Tensor, size: (height: Int, width: Int)? = nil) -> Tensor {
        if let size {
            return conv(upsampleNearest(x, height: size.height, width: size.width))
        }
        return conv(upsampleNearest2x(x))
    }
}
