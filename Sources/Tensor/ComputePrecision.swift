/// The arithmetic a job's linear layers, convolutions and attention products run in.
///
/// `fp32` is the reference path, bit-identical to what the daemon always computed. `bf16` narrows activations
/// and weights to bfloat16 for the GEMMs (fp32 accumulation) and keeps in fp32 what autocast keeps there: norm
/// statistics, softmax, the residual stream, biases, the scheduler and sampler arithmetic (see README).
///
/// The precision is bound per job (`ComputePrecision.$current.withValue`), so one daemon serves fp32 and bf16
/// requests alike; layers read `current` on the calling thread.
public enum ComputePrecision: String, Sendable, CaseIterable {
    case fp32
    case bf16

    /// What layers compute in on this thread (fp32 unless a job bound otherwise).
    @TaskLocal public static var current: ComputePrecision = .fp32
}

/// A precision as a user asks for it: a concrete one, or `auto` (bf16 where it is faster here, see
/// `PrecisionSupport.automatic`).
public enum PrecisionSetting: String, Sendable, CaseIterable {
    case fp32
    case bf16
    case auto

    /// The names accepted by `--precision`, the config file and the requests' `precision` member.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// The concrete precision, `auto` resolved to what start-up found faster on this CPU.
    public func resolved(automatic: ComputePrecision) -> ComputePrecision {
        switch self {
        case .fp32: return .fp32
        case .bf16: return .bf16
        case .auto: return automatic
        }
    }
}

extension PrecisionSetting {
    /// The daemon's setting (`diffusiond serve --precision`) and what `auto` resolved to at start-up. Set once at
    /// start-up, before any job runs.
    nonisolated(unsafe) public static var processDefault: PrecisionSetting = .fp32
    nonisolated(unsafe) public static var processAutomatic: ComputePrecision = .fp32

    /// The precision a request runs in: its own `precision` member when sent, else the daemon's.
    public static func forRequest(_ requested: PrecisionSetting?) -> ComputePrecision {
        (requested ?? processDefault).resolved(automatic: processAutomatic)
    }
}
