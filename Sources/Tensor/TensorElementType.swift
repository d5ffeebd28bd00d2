import TensorKernels

/// How a tensor's values are stored. Activations are always float32; weight matrices may stay resident in
/// a 16-bit format (half the memory) and are widened panel by panel where a GEMM reads them.
public enum TensorElementType: String, Sendable, CaseIterable {
    case float32
    case float16
    case bfloat16

    public var byteWidth: Int { self == .float32 ? 4 : 2 }

    /// The `TK_FORMAT_*` code of a 16-bit type (nil for float32).
    var kernelFormat: Int32? {
        switch self {
        case .float32: return nil
        case .float16: return Int32(TK_FORMAT_F16)
        case .bfloat16: return Int32(TK_FORMAT_BF16)
        }
    }
}
