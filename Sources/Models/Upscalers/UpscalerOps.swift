import Tensor

// Pointwise and data-movement ops of the ESRGAN-family networks. GEMMs dominate their cost, so these are
// plain loops, parallel over planes so they do not serialise a two-core machine between convolutions.

enum UpscalerOps {
    /// LeakyReLU with `slope` on negatives, in place (x is a conv output nobody else holds).
    static func leakyReLU(_ x: inout Tensor, slope: Float = 0.2) {
        x.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Parallel.forEachSlice(count: buffer.count, grain: 1 << 14) { range in
                let p = base + range.lowerBound
                for i in 0..<range.count where p[i] < 0 { p[i] *= slope }
            }
        }
    }

    /// PReLU with one slope per channel (`nn.PReLU(num_parameters=C)`), in place on [N, C, H, W].
    static func prelu(_ x: inout Tensor, slopes: [Float]) {
        let (channels, plane) = (x.shape[1], x.shape[2] * x.shape[3])
        precondition(slopes.count == channels, "prelu: \(slopes.count) slopes for \(channels) channels")
        let planes = x.shape[0] * channels
        x.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Parallel.forEach(0..<planes) { index in
                let slope = slopes[index % channels]
                let p = base + index * plane
                for i in 0..<plane where p[i] < 0 { p[i] *= slope }
            }
        }
    }

    /// `F.pixel_shuffle(x, r)`: [N, C·r², H, W] -> [N, C, H·r, W·r], out[c, h·r+i, w·r+j] = in[c·r²+i·r+j, h, w].
    static func pixelShuffle(_ x: Tensor, factor r: Int) -> Tensor {
        let (n, cr, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let c = cr / (r * r)
        precondition(c * r * r == cr, "pixel_shuffle: \(cr) channels not divisible by \(r * r)")
        var out = Tensor(uninitializedShape: [n, c, h * r, w * r])
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                Parallel.forEach(0..<(n * cr)) { plane in
                    let (b, channel) = (plane / cr, plane % cr)
                    let (oc, phase) = (channel / (r * r), channel % (r * r))
                    let (i, j) = (phase / r, phase % r)
                    let source = s + plane * h * w
                    let target = d + (b * c + oc) * h * r * w * r
                    for y in 0..<h {
                        let row = target + (y * r + i) * w * r + j
                        for xx in 0..<w { row[xx * r] = source[y * w + xx] }
                    }
                }
            }
        }
        return out
    }

    /// `F.pixel_unshuffle(x, r)` (basicsr's `pixel_unshuffle`): [N, C, H·r, W·r] -> [N, C·r², H, W].
    static func pixelUnshuffle(_ x: Tensor, factor r: Int) -> Tensor {
        let (n, c, hr, wr) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (h, w) = (hr / r, wr / r)
        precondition(h * r == hr && w * r == wr, "pixel_unshuffle: \(hr)x\(wr) not divisible by \(r)")
        var out = Tensor(uninitializedShape: [n, c * r * r, h, w])
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                Parallel.forEach(0..<(n * c * r * r)) { plane in
                    let (b, channel) = (plane / (c * r * r), plane % (c * r * r))
                    let (ic, phase) = (channel / (r * r), channel % (r * r))
                    let (i, j) = (phase / r, phase % r)
                    let source = s + (b * c + ic) * hr * wr
                    let target = d + plane * h * w
                    for y in 0..<h {
                        let row = source + (y * r + i) * wr + j
                        for xx in 0..<w { target[y * w + xx] = row[xx * r] }
                    }
                }
            }
        }
        return out
    }
}
