import StrictJSON
import DiffusionProtocol
import Sampling

/// What the generation operations add to `capabilities`: the samplers, schedules and noise families they accept,
/// straight from the Sampling enums so the lists cannot drift from what the samplers parse.
public enum GenerationCapabilities {
    public static var members: [String: JSONValue] {
        [
            "samplers": .array(SamplerKind.allCases.map { .string($0.rawValue) }),
            "schedulers": .array(SigmaScheduleKind.allCases.map { .string($0.rawValue) }),
            "rngs": .array(RNGKind.allCases.map { .string($0.rawValue) }),
        ]
    }
}
