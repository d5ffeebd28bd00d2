import Foundation

/// A sampler plus sigma schedule, parsed from what users type: API names (`"dpmpp_2m"` with
/// scheduler `"karras"`) or A1111 display names (`"DPM++ 2M Karras"`, `"Euler a"`), which
/// may carry the schedule as a suffix.
public struct SamplerChoice: Equatable, Sendable {
    public let sampler: SamplerKind
    public let schedule: SigmaScheduleKind

    public init(sampler: SamplerKind, schedule: SigmaScheduleKind = .normal) {
        self.sampler = sampler
        self.schedule = schedule
    }

    /// - Parameters:
    ///   - sampler: API or A1111 name, case-insensitive.
    ///   - scheduler: API or A1111 schedule name; nil, "" or "automatic" mean "whatever the
    ///     sampler name says, else normal". A schedule given both ways must agree.
    public static func parse(sampler: String, scheduler: String? = nil) throws -> SamplerChoice {
        let (kind, embedded) = try parseSampler(sampler)
        var explicit: SigmaScheduleKind?
        if let s = scheduler?.trimmingCharacters(in: .whitespaces), !s.isEmpty, s.lowercased() != "automatic" {
            explicit = try parseSchedule(s)
        }
        if let e = embedded, let x = explicit, e != x {
            throw SamplingError.unsupportedCombination(sampler: sampler, schedule: scheduler ?? "",
                reason: "the sampler name already selects the \(e.rawValue) schedule")
        }
        return SamplerChoice(sampler: kind, schedule: explicit ?? embedded ?? .normal)
    }

    public static func parseSchedule(_ name: String) throws -> SigmaScheduleKind {
        switch normalized(name) {
        case "normal", "discrete", "default", "uniform": return .normal
        case "karras": return .karras
        case "exponential": return .exponential
        case "sgm_uniform", "sgmuniform": return .sgmUniform
        case "simple": return .simple
        default: throw SamplingError.unknownSchedule(name)
        }
    }

    private static let samplerAliases: [String: SamplerKind] = [
        "euler": .euler,
        "euler_a": .eulerAncestral, "euler_ancestral": .eulerAncestral,
        "heun": .heun,
        "dpmpp_2m": .dpmpp2m, "dpm++_2m": .dpmpp2m,
        "dpmpp_2m_sde": .dpmpp2mSDE, "dpm++_2m_sde": .dpmpp2mSDE,
        "dpmpp_sde": .dpmppSDE, "dpm++_sde": .dpmppSDE,
        "ddim": .ddim,
        "lms": .lms,
        "lcm": .lcm,
    ]

    private static let scheduleSuffixes: [(String, SigmaScheduleKind)] = [
        ("_sgm_uniform", .sgmUniform), ("_karras", .karras), ("_exponential", .exponential), ("_simple", .simple),
    ]

    private static func parseSampler(_ name: String) throws -> (SamplerKind, SigmaScheduleKind?) {
        let key = normalized(name)
        if let kind = samplerAliases[key] { return (kind, nil) }
        for (suffix, schedule) in scheduleSuffixes where key.hasSuffix(suffix) {
            if let kind = samplerAliases[String(key.dropLast(suffix.count))] { return (kind, schedule) }
        }
        throw SamplingError.unknownSampler(name)
    }

    /// "DPM++ 2M Karras" -> "dpm++_2m_karras"; "Euler a" -> "euler_a"; "SGM Uniform" -> "sgm_uniform".
    private static func normalized(_ s: String) -> String {
        s.trimmingCharacters(in: .whitespaces).lowercased()
            .split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "_" }).joined(separator: "_")
    }
}

extension SamplerKind {
    /// The name A1111 shows (without schedule).
    public var displayName: String {
        switch self {
        case .euler: return "Euler"
        case .eulerAncestral: return "Euler a"
        case .heun: return "Heun"
        case .dpmpp2m: return "DPM++ 2M"
        case .dpmpp2mSDE: return "DPM++ 2M SDE"
        case .dpmppSDE: return "DPM++ SDE"
        case .ddim: return "DDIM"
        case .lms: return "LMS"
        case .lcm: return "LCM"
        }
    }
}

extension SamplerChoice {
    /// A1111's combined name, as written into the PNG `parameters` chunk ("DPM++ 2M Karras").
    public var displayName: String {
        switch schedule {
        case .normal: return sampler.displayName
        case .karras: return sampler.displayName + " Karras"
        case .exponential: return sampler.displayName + " Exponential"
        case .sgmUniform: return sampler.displayName + " SGM Uniform"
        case .simple: return sampler.displayName + " Simple"
        }
    }
}
