import Tensor

/// In which element type a network keeps its weight matrices (linear and convolution weights: nearly all
/// of a model's bytes; norms, biases and embeddings stay float32). The computation is float32 either way:
/// `Gemm` widens 16-bit weights one panel at a time.
public enum WeightResidency: String, Sendable, CaseIterable {
    /// As the checkpoint stores them: weights that came from fp16 (or bf16) stay 2 bytes per value, exactly,
    /// so results are bit-identical to widening them at load; float32 files stay float32 (zero-copy mapped).
    case stored
    /// Also narrows float32 weights to fp16 (rounding: results then differ from float32 weights).
    case half
    /// Every weight widened to float32 at load, as before half-precision residency (twice the memory).
    case fp32

    /// What loads use unless told otherwise (`diffusiond serve --weights`). Set once at start-up.
    nonisolated(unsafe) public static var processDefault: WeightResidency = .stored

    /// `weight` in the storage this policy keeps resident.
    public func resident(_ weight: Tensor) -> Tensor {
        switch self {
        case .fp32:
            return weight.widenedToFloat32()
        case .stored:
            // Only owned float32 copies are candidates: those are what a 16-bit checkpoint was converted
            // into. Read-only float32 is a zero-copy mapping of a float32 file and stays as it is.
            guard weight.elementType == .float32, weight.storage.isWritable else { return weight }
            return exact(weight) ?? weight
        case .half:
            guard weight.elementType == .float32 else { return weight }
            if let kept = exact(weight) { return kept }
            return narrowed(weight, to: .float16, exactOnly: false) ?? weight
        }
    }

    /// fp16 when every value is one, else bf16 when every value is one (a bf16 checkpoint), else nil.
    private func exact(_ weight: Tensor) -> Tensor? {
        narrowed(weight, to: .float16, exactOnly: true) ?? narrowed(weight, to: .bfloat16, exactOnly: true)
    }

    private func narrowed(_ weight: Tensor, to type: TensorElementType, exactOnly: Bool) -> Tensor? {
        weight.storage.narrowed(to: type, exactOnly: exactOnly).map { Tensor(shape: weight.shape, storage: $0) }
    }
}
