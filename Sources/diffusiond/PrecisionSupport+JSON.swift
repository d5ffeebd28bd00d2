import StrictJSON
import Tensor

extension PrecisionSupport {
    /// The `capabilities` member `precision`, with the daemon's `--precision` and what requests get by default.
    func json(setting: PrecisionSetting) -> JSONValue {
        var members: [String: JSONValue] = [
            "available": .array(available.map { .string($0) }),
            "fast": .array(fast.map { .string($0) }),
            "cpu_flags": .array(cpuFlags.map { .string($0) }),
            "bf16_hardware": .string(bf16Hardware.rawValue),
            "amx_granted": amxGranted.map { .bool($0) } ?? .null,
            "amx_tile_kernel": .bool(amxTileKernel),
            "reason": .string(reason),
            "setting": .string(setting.rawValue),
            "default": .string(setting.resolved(automatic: automatic).rawValue),
        ]
        if setting == .auto { members["auto"] = .string(automatic.rawValue) }
        if let benchmark {
            members["benchmark"] = ["fp32_seconds": .double(benchmark.fp32Seconds), "bf16_seconds": .double(benchmark.bf16Seconds)]
        }
        return .object(members)
    }
}
