/// A stream of standard-normal float32 samples with torch's draw semantics: each call is one
/// `torch.randn` of `count` elements and advances the state as that call would.
public protocol NoiseSource: AnyObject {
    func normalValues(count: Int) -> [Float]
}

/// Which torch generator family the noise reproduces (request field `rng`).
public enum RNGKind: String, CaseIterable, Sendable {
    /// `torch.Generator("cpu")`: diffusers, ComfyUI, InvokeAI.
    case cpu
    /// `torch.Generator("cuda")` on NVIDIA GPUs: A1111's default, stable-diffusion.cpp.
    case cuda

    public func makeGenerator(seed: UInt64) -> NoiseSource {
        switch self {
        case .cpu: return TorchCPUGenerator(seed: seed)
        case .cuda: return PhiloxGenerator(seed: seed)
        }
    }
}
