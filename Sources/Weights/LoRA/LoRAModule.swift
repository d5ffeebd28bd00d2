import Tensor

/// One adapted layer of a LoRA / LyCORIS file: the key it was stored under and how its weight changes.
public struct LoRAModule: Sendable {
    /// The module key as written in the file, without the tensor suffix (e.g. `lora_unet_mid_block_attentions_0_proj_in`).
    public let key: String
    public let delta: LoRADelta
    /// The stored alpha; nil means scale 1 (alpha = rank), as kohya and diffusers read it.
    public let alpha: Float?
    /// DoRA magnitude, when the module is weight-decomposed.
    public let doraScale: Tensor?

    public init(key: String, delta: LoRADelta, alpha: Float?, doraScale: Tensor?) {
        self.key = key
        self.delta = delta
        self.alpha = alpha
        self.doraScale = doraScale
    }
}

/// The factors of a weight change, per adapter type (the formulas live in `LoRAMath` in Models).
public enum LoRADelta: Sendable {
    /// ΔW = up · down (CP: up · mid · down); LoCon is this with a k×k `down`.
    case lora(up: Tensor, down: Tensor, mid: Tensor?)
    /// ΔW = (w1a · w1b) ⊙ (w2a · w2b); Tucker: each product rebuilt through t1/t2.
    case loha(w1a: Tensor, w1b: Tensor, w2a: Tensor, w2b: Tensor, t1: Tensor?, t2: Tensor?)
    /// ΔW = w1 ⊗ w2 (Kronecker), each factor stored whole or as a product.
    case lokr(w1: LoKrFactor, w2: LoKrFactor, t2: Tensor?)
    /// W' = W + m · diff (and the bias + m · diff_b).
    case full(diff: Tensor, bias: Tensor?)

    /// The adapter type `models.list` and results report.
    public var type: LoRAType {
        switch self {
        case let .lora(_, down, mid): return mid != nil || (down.rank == 4 && down.shape[2] * down.shape[3] > 1) ? .locon : .lora
        case .loha: return .loha
        case .lokr: return .lokr
        case .full: return .full
        }
    }
}

/// One Kronecker factor of a LoKr module.
public enum LoKrFactor: Sendable {
    case whole(Tensor)
    case product(a: Tensor, b: Tensor)
}

/// Adapter types as reported (LyCORIS' names; DoRA is reported as `dora` on top of its base type).
public enum LoRAType: String, Sendable, Comparable {
    case lora, locon, loha, lokr, full, dora

    public static func < (a: LoRAType, b: LoRAType) -> Bool { a.rawValue < b.rawValue }
}
