import Imaging

/// What the area to repaint holds before it is encoded (inpaint `fill`). Pixel fills change the image the
/// VAE sees; latent fills change the encoded latents instead (see `LatentFill`), so the picture is left alone.
public enum InpaintFill: Equatable, Sendable {
    /// The original pixels (A1111's "original").
    case original
    /// A1111's "fill": the surroundings blurred into the hole at decreasing radii.
    case blur
    /// The hole's latents replaced by Gaussian noise (A1111's "latent noise").
    case latentNoise
    /// The hole's latents set to zero (A1111's "latent nothing").
    case latentNothing
    /// Surrounding colours pulled inward (push-pull), continuing the border smoothly.
    case edge
    /// Content-aware infill from patches of the rest of the image, no model needed.
    case patchMatch(seed: UInt64)

    /// The request spelling.
    public var name: String {
        switch self {
        case .original: return "original"
        case .blur: return "blur"
        case .latentNoise: return "latent_noise"
        case .latentNothing: return "latent_nothing"
        case .edge: return "edge"
        case .patchMatch: return "patchmatch"
        }
    }

    public static let names = ["original", "blur", "latent_noise", "latent_nothing", "edge", "patchmatch"]

    public init?(name: String, seed: UInt64) {
        switch name {
        case "original": self = .original
        case "blur": self = .blur
        case "latent_noise": self = .latentNoise
        case "latent_nothing": self = .latentNothing
        case "edge": self = .edge
        case "patchmatch": self = .patchMatch(seed: seed)
        default: return nil
        }
    }

    /// True when the fill produces new pixels on its own (usable without a model).
    public var changesPixels: Bool {
        switch self {
        case .blur, .edge, .patchMatch: return true
        case .original, .latentNoise, .latentNothing: return false
        }
    }

    /// The image with the masked area pre-filled. Pixels where the mask is exactly 0 are returned bit-identical
    /// (libvips selects them from the input); fills that act on latents return the image unchanged.
    /// `shouldCancel` is polled by the PatchMatch fill, the one that runs long on large images.
    public func apply(to image: VipsImage, mask: Mask, shouldCancel: (@Sendable () -> Bool)? = nil) throws -> VipsImage {
        let method: MaskedFill
        switch self {
        case .original, .latentNoise, .latentNothing: return image
        case .blur: method = .blur
        case .edge: method = .edge
        case .patchMatch(let seed): method = .patchMatch(PatchMatchOptions(seed: seed, shouldCancel: shouldCancel))
        }
        // The fill covers everything the repaint touches (m > 0) at full strength: a feathered mask read as
        // confidence would leave the fill's source weighted by the very pixels being replaced (push-pull even
        // stops at once when no pixel has m = 1). The feather is applied once, by the final paste.
        let hard = try mask.thresholded(at: .leastNonzeroMagnitude)
        return try image.filled(through: hard, method: method)
    }
}
