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

    /// The output side for an input side: 3×3, stride 2; padding 0 means diffusers' one-sided (0, 1, 0, 1) pad.
    func outputSide(_ side: Int) -> Int {
        let pad = padBottomRightOnly ? 1 : 2 * conv.padding
        return (side + pad - 3) / 2 + 1
    }

    /// [N, C, H, W] → the shape this downsampler makes of it.
    func outputShape(_ shape: [Int]) -> [Int] {
        [shape[0], shape[1], outputSide(shape[2]), outputSide(shape[3])]
    }
}

/// diffusers' `Upsample2D` with a convolution: nearest-neighbour 2× (or to an explicit size) then 3×3 conv.
///
/// With `subpixel`, the 2× case runs as `SubpixelUpsampleConv` (2.25× fewer FLOPs, no upsampled
/// intermediate) and only the phase-combined kernel is kept; explicit sizes then are not supported, which
/// suits the VAE decoder (always exactly 2×). The UNet keeps the plain path: its upsample convs are a small
/// share of a step, and the combined kernels would add 16/9 of their weights to resident memory.
struct Upsample2D {
    private enum Kernel {
        case plain(Conv2D)
        case subpixel(SubpixelUpsampleConv)
    }
    private let kernel: Kernel

    init(_ scope: WeightScope, channels: Int, subpixel: Bool = false) throws {
        let conv = try Conv2D(scope["conv"], input: channels, output: channels, kernel: 3)
        if subpixel, let bias = conv.bias {
            kernel = .subpixel(SubpixelUpsampleConv(weight: conv.weight, bias: bias))
        } else {
            kernel = .plain(conv)
        }
    }

    func callAsFunction(_ x: Tensor, size: (height: Int, width: Int)? = nil) -> Tensor {
        switch kernel {
        case let .subpixel(fused):
            precondition(size == nil || (size!.height == 2 * x.shape[2] && size!.width == 2 * x.shape[3]),
                         "subpixel Upsample2D only upsamples exactly 2×")
            return fused(x)
        case let .plain(conv):
            if let size {
                return conv(resizeNearest(x, height: size.height, width: size.width))
            }
            return conv(upsampleNearest2x(x))
        }
    }
}
