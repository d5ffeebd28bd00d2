import VipsShim

/// Resampling kernels for `resized`.
public enum ResizeKernel: String, CaseIterable, Sendable {
    case nearest, linear, cubic, lanczos3

    var vips: VipsKernel {
        switch self {
        case .nearest: return VIPS_KERNEL_NEAREST
        case .linear: return VIPS_KERNEL_LINEAR
        case .cubic: return VIPS_KERNEL_CUBIC
        case .lanczos3: return VIPS_KERNEL_LANCZOS3
        }
    }
}
