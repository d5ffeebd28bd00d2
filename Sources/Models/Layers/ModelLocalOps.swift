import Tensor

// Small ops the networks need that the Tensor contract does not list. They are data movement or one
// add per element, far off the hot path (GEMMs dominate), so plain loops are enough.

/// x [N, C, H, W] += bias [N, C] broadcast over H×W (a ResNet block's per-sample time embedding),
/// in place: x is normally the conv output nobody else holds, so no copy is made.
func addPerSampleChannelBias(_ x: inout Tensor, _ bias: Tensor) {
    precondition(x.shape.count == 4 && bias.shape == [x.shape[0], x.shape[1]], "bias must be [N, C] of x")
    let plane = x.shape[2] * x.shape[3]
    bias.withUnsafeBufferPointer { b in
        x.withUnsafeMutableBufferPointer { o in
            for nc in 0..<b.count {
                let v = b[nc]
                let base = nc * plane
                for i in base..<(base + plane) { o[i] += v }
            }
        }
    }
}

/// Zero-pads one column on the right and one row at the bottom of [N, C, H, W]: diffusers' VAE
/// `Downsample2D` with `padding=0` pads (0, 1, 0, 1) before its stride-2 convolution.
func paddingBottomRight(_ x: Tensor) -> Tensor {
    precondition(x.shape.count == 4)
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var out = Tensor(shape: [n, c, h + 1, w + 1])
    x.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            for plane in 0..<(n * c) {
                for y in 0..<h {
                    let s = plane * h * w + y * w
                    let d = plane * (h + 1) * (w + 1) + y * (w + 1)
                    for i in 0..<w { dst[d + i] = src[s + i] }
                }
            }
        }
    }
    return out
}
