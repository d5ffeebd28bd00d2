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
}
