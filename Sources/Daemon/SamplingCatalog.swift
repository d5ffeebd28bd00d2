import DiffusionProtocol
import Sampling
import StrictJSON

/// What `capabilities` advertises for generation requests, straight from the Sampling target's enums so the
/// lists cannot drift from what the samplers accept.
enum SamplingCatalog {
    static var samplers: JSONValue { .array(SamplerKind.allCases.map { .string($0.rawValue) }) }
    static var schedulers: JSONValue { .array(SigmaScheduleKind.allCases.map { .string($0.rawValue) }) }
    static var rngs: JSONValue { .array(RNGKind.allCases.map { .string($0.rawValue) }) }
}
