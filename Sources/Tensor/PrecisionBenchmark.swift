#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The start-up measurement behind `auto`: one linear layer of a UNet-like shape (320 tokens × 640 → 640, the
/// size of SD's second-level projections) timed through the real fp32 (`linear`) and bf16 (`linearBF16`) paths on
/// the compute pool, best of a few runs. A few milliseconds; bf16 wins only if it is measurably faster.
public struct PrecisionBenchmark: Sendable, Equatable {
    public let fp32Seconds: Double
    public let bf16Seconds: Double

    public init(fp32Seconds: Double, bf16Seconds: Double) {
        self.fp32Seconds = fp32Seconds
        self.bf16Seconds = bf16Seconds
    }

    /// bf16 counts as faster only with a 10% margin, so timer noise never flips a tie towards the lossy path.
    public var bf16Faster: Bool { bf16Seconds * 1.1 < fp32Seconds }

    public static func measure(rows: Int = 320, features: Int = 640, repeats: Int = 3) -> PrecisionBenchmark {
        // Any values of this size time the same; a smooth deterministic pattern needs no generator of its own.
        let x = Tensor(shape: [rows, features], values: (0..<rows * features).map { sin(Float($0) * 0.37) })
        let w = Tensor(shape: [features, features], values: (0..<features * features).map { cos(Float($0) * 0.29) * 0.05 })
        let packed = bf16Weights(w)
        let fp32 = best(repeats) { _ = linear(x, weight: w, bias: nil) }
        let bf16 = best(repeats) { _ = linearBF16(x, weight: packed, bias: nil) }
        return PrecisionBenchmark(fp32Seconds: fp32, bf16Seconds: bf16)
    }

    private static func best(_ repeats: Int, _ body: () -> Void) -> Double {
        body()  // warm-up: first-touch pages, packing buffers
        var fastest = Double.infinity
        for _ in 0..<max(1, repeats) {
            let start = now()
            body()
            fastest = min(fastest, now() - start)
        }
        return fastest
    }

    private static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
