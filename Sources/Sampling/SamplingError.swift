/// Errors from schedule construction, name parsing and the sampling loop.
public enum SamplingError: Error, Equatable, CustomStringConvertible {
    case invalidSchedulerConfig(String)
    /// A scheduler_config.json asks for something the samplers do not implement (named in the text).
    case unsupportedSchedulerConfig(String)
    case invalidSteps(Int)
    case invalidStrength(Double)
    /// A hand-off fraction (diffusers' denoising_end / denoising_start) outside (0, 1).
    case invalidSwitch(Double)
    case unknownSampler(String)
    case unknownSchedule(String)
    case unsupportedCombination(sampler: String, schedule: String, reason: String)
    case shapeMismatch(expected: [Int], got: [Int], context: String)
    case cancelled(step: Int)

    public var description: String {
        switch self {
        case .invalidSchedulerConfig(let why): return "invalid scheduler config: \(why)"
        case .unsupportedSchedulerConfig(let what): return what
        case .invalidSteps(let n): return "steps must be between 1 and the model's training steps (got \(n))"
        case .invalidStrength(let s): return "strength must be in (0, 1] (got \(s))"
        case .invalidSwitch(let f): return "switch_at must be in (0, 1) (got \(f))"
        case .unknownSampler(let name): return "unknown sampler '\(name)'"
        case .unknownSchedule(let name): return "unknown schedule '\(name)'"
        case .unsupportedCombination(let s, let sch, let why): return "sampler \(s) with schedule \(sch): \(why)"
        case .shapeMismatch(let e, let g, let ctx): return "\(ctx): expected shape \(e), got \(g)"
        case .cancelled(let step): return "cancelled before step \(step)"
        }
    }
}
