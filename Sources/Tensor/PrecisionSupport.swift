import CPUFeatures
import TensorKernels

/// What this CPU offers for reduced-precision compute, from run-time CPUID/XGETBV (never compile-time flags),
/// reported in `capabilities` so a client can see which precisions are fast here and why.
///
/// Both precisions are always available (bf16 runs on AVX512_BF16 or a scalar fallback); `automatic` is what
/// `--precision auto` resolves to: bf16 only where it is faster here (a bf16 tile kernel granted AMX, or the
/// start-up `PrecisionBenchmark` measuring it faster), else fp32.
public struct PrecisionSupport: Sendable, Equatable {
    public enum BF16Hardware: String, Sendable {
        /// AMX tiles with TDPBF16PS: about 5-8x the fp32 GEMM rate (measured on 2 Xeon cores).
        case amx
        /// AVX512_BF16 (VDPBF16PS) without AMX: bf16 GEMMs measured 0.5-0.6x fp32, a memory saving only.
        case avx512bf16 = "avx512_bf16"
        case none
    }

    /// The flags that matter for precision choices, as seen (CPU and OS both enabling them).
    public let cpuFlags: [String]
    public let bf16Hardware: BF16Hardware
    /// Whether Linux granted AMX tile state to this process; nil where the CPU has no AMX (not asked).
    public let amxGranted: Bool?

    /// The start-up GEMM timing, where one ran (only on CPUs with bf16 instructions).
    public let benchmark: PrecisionBenchmark?
    /// Whether the bf16 GEMM would use AMX tiles here (needs a tile kernel: none is built yet, see README).
    public let amxTileKernel: Bool

    public init(features f: cpu_features_t, amxGranted: Bool?, benchmark: PrecisionBenchmark? = nil) {
        self.benchmark = benchmark
        let named: [(String, Int32)] = [("avx", f.avx), ("avx2", f.avx2), ("fma", f.fma), ("f16c", f.f16c),
                                        ("avx512f", f.avx512f), ("avx512bw", f.avx512bw), ("avx512vl", f.avx512vl),
                                        ("avx512_bf16", f.avx512bf16), ("amx_tile", f.amx_tile), ("amx_bf16", f.amx_bf16)]
        cpuFlags = named.filter { $0.1 != 0 }.map(\.0)
        self.amxGranted = f.amx_bf16 != 0 ? (amxGranted ?? false) : nil
        if f.amx_bf16 != 0, amxGranted == true {
            bf16Hardware = .amx
        } else if f.avx512bf16 != 0 {
            bf16Hardware = .avx512bf16
        } else {
            bf16Hardware = .none
        }
        amxTileKernel = tk_bf16_isa_choose(f.avx512bf16, bf16Hardware == .amx ? 1 : 0) == Int32(TK_BF16_ISA_AMX)
    }

    /// This process's CPU. With `requestAMX`, asks Linux for AMX tile permission where the CPU has AMX (once per
    /// process, after any re-exec: the permission is not inherited across exec).
    /// With `benchmark`, times bf16 against fp32 where the CPU has bf16 instructions (a few milliseconds).
    public static func detect(requestAMX: Bool, benchmark: Bool = false) -> PrecisionSupport {
        let features = cpu_features_detect()
        let granted: Bool? = features.amx_bf16 != 0 ? (requestAMX && cpu_features_request_amx() != 0) : nil
        let probe = PrecisionSupport(features: features, amxGranted: granted)
        guard benchmark, probe.bf16Hardware != .none else { return probe }
        return PrecisionSupport(features: features, amxGranted: granted, benchmark: .measure())
    }

    /// Precisions requests can compute in with this build (bf16 on any CPU: the scalar kernel is the fallback).
    public var available: [String] { ComputePrecision.allCases.map(\.rawValue) }

    /// What `auto` resolves to: bf16 where a tile kernel has granted AMX or the benchmark measured bf16 faster.
    /// Never bf16 without bf16 instructions (the scalar fallback is for correctness, not speed).
    public var automatic: ComputePrecision {
        guard bf16Hardware != .none else { return .fp32 }
        return amxTileKernel || benchmark?.bf16Faster == true ? .bf16 : .fp32
    }

    /// Precisions that are fast here: fp32 always, bf16 when `auto` picks it.
    public var fast: [String] { automatic == .bf16 ? ["fp32", "bf16"] : ["fp32"] }

    /// Why `fast` is what it is, naming what was seen.
    public var reason: String {
        let hardware: String
        switch bf16Hardware {
        case .amx:
            hardware = "AMX-BF16 present and granted: bf16 GEMMs would run several times faster than fp32"
        case .avx512bf16 where amxGranted == false:
            hardware = "AMX-BF16 present but the kernel refused tile permission; AVX512_BF16 alone runs bf16 GEMMs at about 0.5-0.6x fp32"
        case .avx512bf16:
            hardware = "AVX512_BF16 without AMX: bf16 GEMMs typically run at 0.5-0.6x fp32"
        case .none where amxGranted == false:
            hardware = "AMX-BF16 present but the kernel refused tile permission"
        case .none:
            hardware = "no bf16 instructions (neither AMX-BF16 nor AVX512_BF16)"
        }
        var text = hardware
        if bf16Hardware == .amx && !amxTileKernel { text += "; no AMX tile kernel is built, so bf16 runs on AVX512_BF16" }
        if let benchmark {
            text += "; start-up GEMM: fp32 \(Self.milliseconds(benchmark.fp32Seconds)) ms, bf16 \(Self.milliseconds(benchmark.bf16Seconds)) ms"
        }
        return text + "; auto = \(automatic.rawValue)"
    }

    static func milliseconds(_ seconds: Double) -> String {
        String(Double((seconds * 1e5).rounded()) / 100)
    }
}
