import Tensor

/// Pixel (un)shuffle, shared by the ESRGAN networks and the T2I-Adapters' input: pure data movement,
/// parallel over planes.
enum PixelShuffle {
    /// `F.pixel_shuffle(x, r)`: [N, C·r², H, W] -> [N, C, H·r, W·r], out[c, h·r+i, w·r+j] = in[c·r²+i·r+j, h, w].
    static func shuffle(_ x: Tensor, factor r: Int) -> Tensor {
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
    static func unshuffle(_ x: Tensor, factor r: Int) -> Tensor {
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
