/// Where a merge's time went, for profiling a LoRA set's first use: copying the touched base tensors (page
/// faults of fresh memory included), the rank-r products accumulated into them and rebuilding the patched
/// networks; the rest of a merge (matching keys, preparing factors, the other ΔW kinds) is what the caller's
/// total leaves. Wall-clock seconds; a block's copy and product are timed apart even though they alternate.
public struct LoRAMergeTimings: Sendable, Equatable {
    public var copySeconds: Double = 0
    public var productSeconds: Double = 0
    /// Rounding merged copies to fp16 (16-bit residency, `--weights half`), including the first touch of their memory.
    public var narrowSeconds: Double = 0
    public var buildSeconds: Double = 0

    public init() {}

    /// Seconds of `body`, added to `total`.
    static func time<R>(_ total: inout Double, _ body: () throws -> R) rethrows -> R {
        let start = ContinuousClock.now
        defer { total += (ContinuousClock.now - start).seconds }
        return try body()
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) * 1e-18
    }
}
