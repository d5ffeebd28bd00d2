import Foundation

/// Reproduces `torch.randn(shape, generator=torch.Generator("cuda").manual_seed(seed))`
/// on an NVIDIA GPU (float32), including how the generator's Philox offset moves between
/// draws, so that a seed from A1111 ("GPU"/"NV" noise) or stable-diffusion.cpp gives the
/// same starting noise here.
///
/// Layout (torch's `distribution_nullary_kernel` with `curand_normal4`, unroll 4, blocks of
/// 256 threads): the launch has `grid = ceil(n / 256)` blocks (capped by the GPU's resident
/// block count), thread `t` runs `curand_init(seed, subsequence: t, offset: generatorOffset)`
/// and its k-th `curand_normal4` call fills elements `t + stride * (4k + i)`, i = 0..<4,
/// stride = 256 * grid. Each draw advances the generator offset by
/// `4 * ceil(n / (stride * 4))` (4 for any tensor that fits in one wave).
///
/// Precision: curand's Box-Muller uses the GPU's hardware sine/cosine (`__sincosf`, an
/// approximation with up to 2^-21.41 absolute error), which cannot be reproduced exactly on
/// a CPU. We model the argument scaling the hardware does (multiply by 1/2pi rounded toward
/// zero) and evaluate the sine exactly; values agree with real-GPU output to within
/// `2^-21.41 * radius + 1 ulp` per element (see PhiloxGeneratorTests).
public final class PhiloxGenerator: NoiseSource {
    public let seed: UInt64
    /// torch's `philox_offset_per_thread`: advances by a multiple of 4 per draw.
    public private(set) var offset: UInt64
    /// The GPU's resident block limit (`multiProcessorCount * maxThreadsPerSM / 256`), which
    /// only matters for tensors larger than `256 * maxBlocks` elements. `nil` means no cap,
    /// i.e. every element is its own subsequence; that is what A1111's NV emulation and
    /// stable-diffusion.cpp do and what every GPU does for tensors up to 125k elements
    /// (e.g. 1056 on an H100 SXM, 768 on an RTX 4090, 492 on an RTX 3090).
    public let maxBlocks: Int?

    private static let blockSize = 256
    private static let unroll = 4

    public init(seed: UInt64, offset: UInt64 = 0, maxBlocks: Int? = nil) {
        self.seed = seed
        self.offset = offset
        self.maxBlocks = maxBlocks.map { max(1, $0) }
    }

    public func normalValues(count: Int) -> [Float] {
        guard count > 0 else { return [] }
        var grid = (count + Self.blockSize - 1) / Self.blockSize
        if let cap = maxBlocks { grid = min(grid, cap) }
        let stride = Self.blockSize * grid
        let rounds = (count - 1) / (stride * Self.unroll) + 1
        let base = offset / 4
        offset += UInt64(rounds * 4)

        let key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { buf in
            for thread in 0..<min(stride, count) {
                let sub = UInt64(thread)
                for k in 0..<rounds {
                    let first = thread + stride * (Self.unroll * k)
                    if first >= count { break }
                    let ctr = base &+ UInt64(k)
                    let r = Philox4x32.block(
                        counter: (UInt32(truncatingIfNeeded: ctr), UInt32(truncatingIfNeeded: ctr >> 32),
                                  UInt32(truncatingIfNeeded: sub), UInt32(truncatingIfNeeded: sub >> 32)),
                        key: key)
                    let a = Self.boxMuller(r.0, r.1)
                    let b = Self.boxMuller(r.2, r.3)
                    for (i, value) in [a.0, a.1, b.0, b.1].enumerated() {
                        let li = thread + stride * (Self.unroll * k + i)
                        if li < count { buf[li] = value }
                    }
                }
            }
        }
        return out
    }

    /// curand's `_curand_box_muller`: (sin, cos) * sqrt(-2 log u).
    private static func boxMuller(_ x: UInt32, _ y: UInt32) -> (Float, Float) {
        let inv32: Float = 0x1p-32
        let inv32TwoPi: Float = inv32 * Float(2 * Double.pi)
        // nvcc contracts these multiply-adds into FMAs.
        let v = (inv32TwoPi / 2).addingProduct(Float(y), inv32TwoPi)
        let s = radius(x)
        let turns = productTowardZero(v, Float(0.15915493667125701904))
        let angle = 2 * Double.pi * Double(turns)
        let sinV = Float(Foundation.sin(angle))
        let cosV = Float(Foundation.cos(angle))
        return (sinV * s, cosV * s)
    }

    /// sqrt(-2 ln u) for the uniform u in (0, 1) that curand maps `x` to.
    static func radius(_ x: UInt32) -> Float {
        let inv32: Float = 0x1p-32
        // nvcc contracts the multiply-add; the product is exact here anyway.
        let u = (inv32 / 2).addingProduct(Float(x), inv32)
        return (-2 * Foundation.logf(u)).squareRoot()
    }

    /// a*b rounded toward zero (the hardware's FMUL.RZ before MUFU.SIN/COS).
    private static func productTowardZero(_ a: Float, _ b: Float) -> Float {
        let exact = Double(a) * Double(b)  // exact: 24x24-bit product fits in 53 bits
        var r = Float(exact)
        if abs(Double(r)) > abs(exact) { r = r > 0 ? r.nextDown : r.nextUp }
        return r
    }
}
