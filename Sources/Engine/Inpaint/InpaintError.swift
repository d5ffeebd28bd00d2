import Imaging

/// Failures of inpainting/outpainting that a caller can act on; each carries the values involved.
public enum InpaintError: Error, Equatable, CustomStringConvertible {
    /// The mask selects nothing to repaint (all black after its options), so there is no work to do.
    case emptyMask(imageSize: ImageSize)
    /// A fill that only means something inside a diffusion model (latent_noise, latent_nothing, original)
    /// was asked for without one.
    case fillNeedsModel(fill: String)
    /// An extension with nothing to add.
    case emptyExtension
    /// A latent tensor or mask did not have the shape the operation needs.
    case shapeMismatch(what: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case .emptyMask(let size):
            return "the mask selects no pixel of the \(size) image (after invert/threshold/grow); paint white where to repaint"
        case .fillNeedsModel(let fill):
            return "fill \"\(fill)\" only changes what a diffusion model starts from; without \"model\" use edge, blur or patchmatch"
        case .emptyExtension:
            return "extend adds no pixels; give at least one of left, top, right, bottom above 0"
        case .shapeMismatch(let what, let expected, let actual):
            return "\(what) has shape \(actual), expected \(expected)"
        }
    }
}
