import VipsShim

/// What happens to the original's alpha band where the mask repaints.
public enum PasteAlpha: Sendable {
    /// Alpha moves toward the repainted image's (opaque when it has none): filling a transparent hole makes it
    /// visible. Colours are blended premultiplied so transparent originals leave no dark fringe.
    case blend
    /// The original alpha stays everywhere; only colour is replaced.
    case keepOriginal
}

extension VipsImage {
    /// The inpaint/outpaint final composite: `repainted` over this image through `mask`
    /// (out = original·(1−m) + repainted·m). Wherever the mask is exactly 0 the result is bit-identical to this
    /// image — same samples, bit depth, bands, alpha — because those pixels are selected from it, not recomputed.
    /// The result keeps this image's format, interpretation, ICC profile and PNG text. `repainted` may differ in
    /// bit depth or be RGB over a grey original; it is converted to this image's colour bands and range.
    public func pasting(_ repainted: VipsImage, through mask: Mask, alpha: PasteAlpha = .blend) throws -> VipsImage {
        guard repainted.size == size else {
            throw ImagingError.sizeMismatch(what: "the repainted image", expected: size, actual: repainted.size)
        }
        guard mask.size == size else {
            throw ImagingError.sizeMismatch(what: "the mask", expected: size, actual: mask.size)
        }
        let maxValue = format.maxValue
        let m = mask.image
        let original = try converted(to: .float)
        let originalColor = try original.band(0, count: colorBands)
        let repaintColor = try repainted.colorMatching(bands: colorBands).converted(to: .float)
            .linear(maxValue / repainted.format.maxValue, 0)

        var blended: VipsImage
        if hasAlpha {
            let originalAlpha = try original.band(bands - 1)
            let repaintAlpha = repainted.hasAlpha
                ? try repainted.band(repainted.bands - 1).converted(to: .float).linear(maxValue / repainted.format.maxValue, 0)
                : try originalAlpha.linear(0, maxValue)
            switch alpha {
            case .keepOriginal:
                let color = try VipsImage.mix(originalColor, repaintColor, m)
                blended = try VipsImage.joiningBands([color, originalAlpha])
            case .blend:
                let outAlpha = try VipsImage.mix(originalAlpha, repaintAlpha, m)
                let premultipliedOriginal = try originalColor.multiplying(originalAlpha)
                let premultipliedRepaint = try repaintColor.multiplying(repaintAlpha)
                let premultiplied = try VipsImage.mix(premultipliedOriginal, premultipliedRepaint, m)
                // Divide back; where the blended alpha is 0 nothing is visible and the colour is set to 0.
                let zeroAlpha = try outAlpha.derive("alpha == 0") {
                    vshim_relational_const1($0, $1, Int32(VIPS_OPERATION_RELATIONAL_EQUAL.rawValue), 0)
                }
                let ones = try outAlpha.linear(0, 1)
                let safeAlpha = try withExtendedLifetime((zeroAlpha, ones)) {
                    try VipsImage.make("ifthenelse") {
                        vshim_ifthenelse(zeroAlpha.pointer, ones.pointer, outAlpha.pointer, $0)
                    }
                }
                let color = try premultiplied.dividing(by: safeAlpha)
                blended = try VipsImage.joiningBands([color, outAlpha])
            }
        } else {
            blended = try VipsImage.mix(originalColor, repaintColor, m)
        }
        blended = try blended.converted(to: format)

        let keep = try m.derive("mask == 0") {
            vshim_relational_const1($0, $1, Int32(VIPS_OPERATION_RELATIONAL_EQUAL.rawValue), 0)
        }
        let chosen = try withExtendedLifetime((keep, blended)) {
            try VipsImage.make("ifthenelse") { vshim_ifthenelse(keep.pointer, self.pointer, blended.pointer, $0) }
        }
        return try chosen.withInterpretation(interpretation).withMetadata(from: self)
    }

    /// Pastes a repainted crop back ("only masked" inpainting): `region` covers `rect` of this image and is blended
    /// through `mask` (full image size) inside `rect`; everything outside `rect`, and wherever the mask is 0, is
    /// this image bit for bit.
    public func pasting(_ region: VipsImage, at rect: PixelRect, through mask: Mask,
                        alpha: PasteAlpha = .blend) throws -> VipsImage {
        guard region.size == rect.size else {
            throw ImagingError.sizeMismatch(what: "the repainted region", expected: rect.size, actual: region.size)
        }
        guard PixelRect(x: 0, y: 0, width: width, height: height).contains(rect), !rect.isEmpty else {
            throw ImagingError.invalidArgument("region \(rect) is outside the \(size) image")
        }
        guard mask.size == size else {
            throw ImagingError.sizeMismatch(what: "the mask", expected: size, actual: mask.size)
        }
        let right = width - rect.maxX, bottom = height - rect.maxY
        let full = try region.padded(left: rect.x, top: rect.y, right: right, bottom: bottom, mode: .constant([0]))
        let inside = try mask.image.cropped(to: rect)
            .padded(left: rect.x, top: rect.y, right: right, bottom: bottom, mode: .constant([0]))
        return try pasting(full, through: Mask(unchecked: inside), alpha: alpha)
    }

    /// a·(1−m) + b·m, computed as a + (b − a)·m.
    static func mix(_ a: VipsImage, _ b: VipsImage, _ m: VipsImage) throws -> VipsImage {
        try a.adding(try b.subtracting(a).multiplying(m))
    }

    func dividing(by other: VipsImage) throws -> VipsImage {
        try withExtendedLifetime(other) { try derive("divide") { vshim_divide($0, other.pointer, $1) } }
    }

    /// The colour bands of this image as `bands` colour bands (1 or 3): grey repeated, or RGB to luminance.
    func colorMatching(bands target: Int) throws -> VipsImage {
        let color = try band(0, count: colorBands)
        if color.bands == target { return color }
        if target == 3, color.bands == 1 { return try VipsImage.joiningBands([color, color, color]) }
        if target == 1, color.bands == 3 {
            let weights = try VipsImage.matrix(width: 3, height: 1, values: [0.299, 0.587, 0.114])
            return try withExtendedLifetime(weights) {
                try color.converted(to: .float).derive("recomb") { vshim_recomb($0, $1, weights.pointer) }
            }
        }
        throw ImagingError.invalidArgument("cannot match \(color.bands) colour bands to \(target)")
    }
}
