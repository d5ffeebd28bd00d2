import CPUFeatures

/// What this CPU offers for reduced-precision compute, from run-time CPUID/XGETBV (never compile-time flags),
/// reported in `capabilities` so a client can see which precisions are fast here and why.
///
/// The daemon computes in fp32 only for now: bf16 compute kernels are not built yet, so `available` is fp32
/// whatever the hardware, and the bf16 findings say what a bf16 path would get on this machine.
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

    public init(features f: cpu_features_t, amxGranted: Bool?) {
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
    }

    /// This process's CPU. With `requestAMX`, asks Linux for AMX tile permission where the CPU has AMX (once per
    /// process, after any re-exec: the permission is not inherited across exec).
    public static func detect(requestAMX: Bool) -> PrecisionSupport {
        let features = cpu_features_detect()
        let granted: Bool? = features.amx_bf16 != 0 ? (requestAMX && cpu_features_request_amx() != 0) : nil
        return PrecisionSupport(features: features, amxGranted: granted)
    }

    /// Precisions requests can compute in with this build.
    public var available: [String] { ["fp32"] }

    /// Precisions that are fast here: bf16 would be only with granted AMX (without it bf16 is slower than fp32).
    public var fast: [String] { available }

    /// Why `fast` is what it is, naming what was seen.
    public var reason: String {
        let hardware: String
        switch bf16Hardware {
        case .amx:
            hardware = "AMX-BF16 present and granted: bf16 GEMMs would run several times faster than fp32"
        case .avx512bf16 where amxGranted == false:
            hardware = "AMX-BF16 present but the kernel refused tile permission; AVX512_BF16 alone runs bf16 GEMMs at about 0.5-0.6x fp32"
        case .avx512bf16:
            hardware = "AVX512_BF16 without AMX: bf16 GEMMs run at about 0.5-0.6x fp32, so fp32 stays faster"
        case .none where amxGranted == false:
            hardware = "AMX-BF16 present but the kernel refused tile permission"
        case .none:
            hardware = "no bf16 instructions (neither AMX-BF16 nor AVX512_BF16)"
        }
        return hardware + "; this build computes in fp32 only (bf16 compute kernels not built yet)"
    }
}
