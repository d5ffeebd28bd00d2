/// Parallel elementwise kernels over raw buffers. The per-slice closures take pointers so the
/// optimizer can vectorise their loops without bounds checks.
enum Elementwise {
    /// Elements per parallel slice: large enough that waking a worker is amortised.
    static let grain = 16384

    /// result[i] = f(x[i]) for a whole slice at a time.
    static func map(_ x: Tensor,
                    _ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        let result = Tensor(uninitializedShape: x.shape)
        let output = result.storage.pointer
        let input = UnsafePointer(x.storage.pointer)
        Parallel.forEachSlice(count: x.count, grain: grain) { range in
            kernel(input + range.lowerBound, output + range.lowerBound, range.count)
        }
        withExtendedLifetime(x) {}
        return result
    }

    /// result[i] = f(a[i], b[i]).
    static func zip(_ a: Tensor, _ b: Tensor, name: String,
                    _ kernel: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
        precondition(a.shape == b.shape, "\(name): shapes differ, \(a.shape) vs \(b.shape)")
        let result = Tensor(uninitializedShape: a.shape)
        let output = result.storage.pointer
        let left = UnsafePointer(a.storage.pointer)
        let right = UnsafePointer(b.storage.pointer)
        Parallel.forEachSlice(count: a.count, grain: grain) { range in
            kernel(left + range.lowerBound, right + range.lowerBound, output + range.lowerBound, range.count)
        }
        withExtendedLifetime((a, b)) {}
        return result
    }
}
