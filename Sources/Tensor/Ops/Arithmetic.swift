// Residual adds, scaling and per-channel bias: the cheap glue between GEMMs.

public func + (lhs: Tensor, rhs: Tensor) -> Tensor {
    Elementwise.zip(lhs, rhs, name: "+") { a, b, out, n in
        for i in 0..<n { out[i] = a[i] + b[i] }
    }
}

public func - (lhs: Tensor, rhs: Tensor) -> Tensor {
    Elementwise.zip(lhs, rhs, name: "-") { a, b, out, n in
        for i in 0..<n { out[i] = a[i] - b[i] }
    }
}

public func * (lhs: Tensor, rhs: Tensor) -> Tensor {
    Elementwise.zip(lhs, rhs, name: "*") { a, b, out, n in
        for i in 0..<n { out[i] = a[i] * b[i] }
    }
}

public func * (lhs: Tensor, rhs: Float) -> Tensor {
    Elementwise.map(lhs) { a, out, n in
        for i in 0..<n { out[i] = a[i] * rhs }
    }
}

public func * (lhs: Float, rhs: Tensor) -> Tensor { rhs * lhs }

public func + (lhs: Tensor, rhs: Float) -> Tensor {
    Elementwise.map(lhs) { a, out, n in
        for i in 0..<n { out[i] = a[i] + rhs }
    }
}

public func + (lhs: Float, rhs: Tensor) -> Tensor { rhs + lhs }

public func - (lhs: Tensor, rhs: Float) -> Tensor { lhs + (-rhs) }

public prefix func - (x: Tensor) -> Tensor { x * -1 }

public func += (lhs: inout Tensor, rhs: Tensor) { lhs.addInPlace(rhs) }

extension Tensor {
    /// self += other, in place (copies first only if the storage is shared).
    public mutating func addInPlace(_ other: Tensor, scale: Float = 1) {
        precondition(shape == other.shape, "addInPlace: shapes differ, \(shape) vs \(other.shape)")
        let source = UnsafePointer(other.storage.pointer)
        withUnsafeMutableBufferPointer { buffer in
            guard let target = buffer.baseAddress else { return }
            Parallel.forEachSlice(count: buffer.count, grain: Elementwise.grain) { range in
                let a = target + range.lowerBound
                let b = source + range.lowerBound
                if scale == 1 {
                    for i in 0..<range.count { a[i] += b[i] }
                } else {
                    for i in 0..<range.count { a[i] += scale * b[i] }
                }
            }
        }
        withExtendedLifetime(other) {}
    }

    /// self *= value, in place.
    public mutating func scaleInPlace(_ value: Float) {
        withUnsafeMutableBufferPointer { buffer in
            guard let target = buffer.baseAddress else { return }
            Parallel.forEachSlice(count: buffer.count, grain: Elementwise.grain) { range in
                let a = target + range.lowerBound
                for i in 0..<range.count { a[i] *= value }
            }
        }
    }
}

/// x [N, C, ...] + bias [C] broadcast over the batch and spatial dimensions.
public func addChannelBias(_ x: Tensor, _ bias: Tensor) -> Tensor {
    precondition(x.rank >= 2 && bias.rank == 1 && bias.shape[0] == x.shape[1],
                 "addChannelBias: bias \(bias.shape) does not match channels of \(x.shape)")
    var result = x
    result.addChannelBiasInPlace(bias)
    return result
}

extension Tensor {
    /// Adds bias [C] to every channel plane of self [N, C, ...].
    public mutating func addChannelBiasInPlace(_ bias: Tensor) {
        precondition(rank >= 2 && bias.rank == 1 && bias.shape[0] == shape[1],
                     "addChannelBias: bias \(bias.shape) does not match channels of \(shape)")
        let channels = shape[1]
        let planes = shape[0] * channels
        let planeSize = planes == 0 ? 0 : count / planes
        let biasPointer = UnsafePointer(bias.storage.pointer)
        withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            Parallel.forEach(0..<planes) { plane in
                let value = biasPointer[plane % channels]
                let p = base + plane * planeSize
                for i in 0..<planeSize { p[i] += value }
            }
        }
        withExtendedLifetime(bias) {}
    }
}
