import Imaging

/// Inpainting and outpainting without a diffusion model: the pixel fills alone (edge, blur, PatchMatch for
/// inpaint; edge, mirror, blur, noise, PatchMatch for outpaint), then the same exact composite the model path
/// ends with. A user without weights still gets a content-aware result.
public enum ModelFreeEdit {
    /// Fills the masked area of `image` with `fill` inside the region chosen by `area`, optionally colour-matches
    /// it to its surroundings, and pastes it back through `mask`. Where `mask` is 0 the output is `image` bit for
    /// bit (same depth, bands, alpha and metadata).
    /// `shouldCancel` stops a PatchMatch fill early (`ImagingError.cancelled`).
    public static func inpaint(image: VipsImage, mask: Mask, fill: InpaintFill, area: InpaintArea,
                               colorMatch: Bool, shouldCancel: (@Sendable () -> Bool)? = nil) throws -> VipsImage {
        guard fill.changesPixels else { throw InpaintError.fillNeedsModel(fill: fill.name) }
        guard try mask.image.extrema().max > 0 else { throw InpaintError.emptyMask(imageSize: image.size) }
        let region = try InpaintRegion(image: image, mask: mask, area: area, processingSize: nil)
        var repainted = try fill.apply(to: region.image, mask: region.mask, shouldCancel: shouldCancel)
        if colorMatch {
            repainted = try repainted.colorMatched(to: region.image, mask: region.mask)
        }
        // The fill keeps the input's alpha; the new content is opaque, so a transparent hole (from_alpha)
        // becomes visible through the mask instead of staying transparent.
        if repainted.hasAlpha { repainted = try repainted.band(0, count: repainted.colorBands) }
        return try region.pasteBack(repainted, into: image, mask: mask)
    }

    /// The extended, filled canvas at exactly the requested size; the original sits unchanged at
    /// (`left`, `top`).
    public static func outpaint(image: VipsImage, extension ext: CanvasExtension, fill: CanvasFill,
                                seamFeather: Int) throws -> ExtendedCanvas {
        guard !ext.isEmpty else { throw InpaintError.emptyExtension }
        return try image.extended(by: ext, fill: fill, seamFeather: seamFeather)
    }
}
