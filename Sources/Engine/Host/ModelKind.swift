/// What a resident model is for. One host keeps every kind under one memory budget, so a new kind
/// (ControlNets, adapter-patched variants) is a new case here and a loader, not a new cache.
public enum ModelKind: String, Sendable, CaseIterable, Comparable {
    case stableDiffusion = "stable-diffusion"
    case upscaler
    case t2iAdapter = "t2i-adapter"
    case controlnet
    /// A1111 hypernetworks (`<--models>/hypernetworks/`), hosted under the budget like any model.
    case hypernetwork
    /// Textual-inversion embeddings (`<--models>/embeddings/`): listed, never hosted (a few KB each).
    case embedding
    /// A LoRA / LyCORIS file of `loras/` (listed, never resident on its own: it is merged into a model's patched variant).
    case lora

    public static func < (a: ModelKind, b: ModelKind) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}
