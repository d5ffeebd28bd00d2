import StrictJSON
import Tensor

extension PrecisionSupport {
    /// The `capabilities` member `precision`.
    var json: JSONValue {
        [
            "available": .array(available.map { .string($0) }),
            "fast": .array(fast.map { .string($0) }),
            "cpu_flags": .array(cpuFlags.map { .string($0) }),
            "bf16_hardware": .string(bf16Hardware.rawValue),
            "amx_granted": amxGranted.map { .bool($0) } ?? .null,
            "reason": .string(reason),
        ]
    }
}
