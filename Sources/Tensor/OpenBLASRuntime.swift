import CBLAS
import CPUFeatures
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The instruction-set class of a BLAS kernel or of a CPU, ordered from slowest to fastest.
public enum KernelClass: Int, Comparable, Sendable, CustomStringConvertible {
    case baseline = 0   // SSE2/SSE3-era kernels (Prescott, Core2, Nehalem, Barcelona, ...)
    case avx = 1        // Sandybridge, Bulldozer family
    case avx2 = 2       // Haswell, Zen
    case avx512 = 3     // SkylakeX, Cooperlake, SapphireRapids

    public static func < (lhs: KernelClass, rhs: KernelClass) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .baseline: return "baseline"
        case .avx: return "AVX"
        case .avx2: return "AVX2"
        case .avx512: return "AVX-512"
        }
    }

    /// The OpenBLAS core type to request for this class, if forcing one is worthwhile.
    public var preferredCoreType: String? {
        switch self {
        case .avx512: return "SkylakeX"
        case .avx2: return "Haswell"
        case .avx, .baseline: return nil
        }
    }

    /// The class of an OpenBLAS core name as `openblas_get_corename()` reports it, or nil when the
    /// name is unknown (then we leave the library's choice alone).
    public init?(coreName: String) {
        switch coreName.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids":
            self = .avx512
        case "haswell", "zen":
            self = .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator":
            self = .avx
        case "katmai", "coppermine", "northwood", "prescott", "banias", "atom", "core2", "penryn",
             "dunnington", "nehalem", "athlon", "opteron", "opteron_sse3", "barcelona", "nano", "bobcat":
            self = .baseline
        default:
            return nil
        }
    }

    /// What this CPU can run, from cpuid and the OS-enabled register state (xgetbv).
    public static var currentCPU: KernelClass {
        let f = cpu_features_detect()
        if f.avx512f != 0 && f.avx512bw != 0 && f.avx512dq != 0 && f.avx512vl != 0 { return .avx512 }
        if f.avx2 != 0 && f.fma != 0 { return .avx2 }
        if f.avx != 0 { return .avx }
        return .baseline
    }
}

/// What `ensureFastKernel` decided.
public enum KernelDecision: Equatable, Sendable {
    /// Keep the loaded kernel; the reason is for the log.
    case keep(reason: String)
    /// Restart the process with OPENBLAS_CORETYPE set to this core type.
    case reexec(coreType: String)
}

/// OpenBLAS process-level settings: which kernel got loaded, and getting the fast one.
///
/// OpenBLAS (DYNAMIC_ARCH builds such as Debian's) picks its kernel once, when the library loads,
/// from OPENBLAS_CORETYPE or its own CPU detection. Detection in 0.3.21 does not know newer CPUs and
/// falls back to Prescott (about 6x slower sgemm than SkylakeX). The only fix after load is to set
/// the variable and restart the process image, which `ensureFastKernel` does before anything else runs.
public enum OpenBLASRuntime {
    public static let coreTypeVariable = "OPENBLAS_CORETYPE"
    /// Set (to the forced core type) on the re-executed process, so we never loop. Its presence also
    /// marks OPENBLAS_CORETYPE as set by diffusiond rather than by the user.
    public static let reexecMarkerVariable = "DIFFUSIOND_OPENBLAS_REEXEC"

    /// The kernel OpenBLAS loaded, e.g. "SkylakeX", "Haswell", "Prescott".
    public static func corename() -> String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name).trimmingTrailingSpaces()
    }

    /// Sets the thread count of OpenBLAS and of `Parallel` together (see `ComputeConfig`).
    public static func setThreads(_ count: Int) {
        ComputeConfig.setThreads(count)
    }

    /// The pure decision: restart with a faster core only when the user did not choose one, we did
    /// not already try, the loaded core is known, and the CPU supports a strictly better class.
    public static func decision(loadedCore: String, cpuClass: KernelClass, userSet: Bool,
                                alreadyRetried: Bool = false) -> KernelDecision {
        if userSet {
            return .keep(reason: "\(coreTypeVariable) set by the user; using \(loadedCore)")
        }
        guard let loadedClass = KernelClass(coreName: loadedCore) else {
            return .keep(reason: "unknown OpenBLAS core \(loadedCore); keeping it")
        }
        guard loadedClass < cpuClass, let target = cpuClass.preferredCoreType else {
            return .keep(reason: "OpenBLAS core \(loadedCore) (\(loadedClass)) matches the CPU (\(cpuClass))")
        }
        if alreadyRetried {
            return .keep(reason: "OpenBLAS still loads \(loadedCore) after requesting \(target); this build may lack the \(cpuClass) kernels")
        }
        return .reexec(coreType: target)
    }

    /// Call first thing in `main`. When the loaded kernel is weaker than the CPU supports and the user
    /// did not set OPENBLAS_CORETYPE, sets it and re-executes /proc/self/exe with `arguments` (argv,
    /// including argv[0]); on success this never returns. Otherwise returns what was decided, for the log.
    @discardableResult
    public static func ensureFastKernel(arguments: [String] = CommandLine.arguments) -> KernelDecision {
        let marker = environment(reexecMarkerVariable)
        let requested = environment(coreTypeVariable)
        // The marker says OPENBLAS_CORETYPE is ours to manage (a diffusiond process set it); when it
        // equals the requested core we already restarted once and must not try again.
        let userSet = requested != nil && marker == nil
        let alreadyRetried = marker != nil && marker == requested
        let result = decision(loadedCore: corename(), cpuClass: KernelClass.currentCPU,
                              userSet: userSet, alreadyRetried: alreadyRetried)
        guard case .reexec(let coreType) = result else { return result }
        setenv(coreTypeVariable, coreType, 1)
        setenv(reexecMarkerVariable, coreType, 1)
        let failure = reexec(arguments: arguments)
        // Still here: exec failed. Restore the environment so children see what we were given.
        if let requested { setenv(coreTypeVariable, requested, 1) } else { unsetenv(coreTypeVariable) }
        if let marker { setenv(reexecMarkerVariable, marker, 1) } else { unsetenv(reexecMarkerVariable) }
        return .keep(reason: "could not re-execute to load \(coreType): \(failure)")
    }

    private static func reexec(arguments: [String]) -> String {
        let path = "/proc/self/exe"
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        execv(path, argv)
        return "execv(\(path)) failed: \(String(cString: strerror(errno)))"
    }

    private static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var result = self
        while let last = result.last, last == " " || last == "\n" { result.removeLast() }
        return result
    }
}
