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

    /// Request names: "cpu"; "cuda", "gpu" or "nv" (A1111's names for GPU noise and its
    /// CPU emulation of it) for the NVIDIA family. Case-insensitive.
    public init?(name: String) {
        switch name.lowercased() {
        case "cpu": self = .cpu
        case "cuda", "gpu", "nv": self = .cuda
        default: return nil
        }
    }

    public func makeGenerator(seed: UInt64) -> NoiseSource {
        switch self {
        case .cpu: return TorchCPUGenerator(seed: seed)
        case .cuda: return PhiloxGenerator(seed: seed)
        }
    }
}
