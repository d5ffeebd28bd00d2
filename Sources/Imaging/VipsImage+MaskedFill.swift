import VipsShim

/// How the area to repaint is pre-filled before encoding (inpaint `fill`), from the pixels around it.
public enum MaskedFill: Sendable {
    /// Surrounding colours pulled inward smoothly (push-pull over an image pyramid: each level averages the kept
    /// pixels, coarse levels fill the holes of finer ones), so the hole continues its border.
    case edge
    /// A1111's "fill": the kept area blurred at radii 256, 64, 16, 4, 2 px and alpha-composited (premultiplied)
    /// coarse to fine, 1/1/2/4/2 times, then the sharp kept area on top.
    case blur
    /// Content-aware: holes rebuilt from patches of the rest of the image (multi-scale PatchMatch).
    case patchMatch(PatchMatchOptions)
}

extension VipsImage {
    /// The image with the repaint area (mask > 0, weighted by the mask for soft masks) replaced by `fill`.
    /// Pixels where the mask is exactly 0 are returned bit-identical; alpha, format and metadata are kept.
    public func filled(through mask: Mask, method: MaskedFill) throws -> VipsImage {
        guard mask.size == size else { throw ImagingError.sizeMismatch(what: "the mask", expected: size, actual: mask.size) }
        let keep = try mask.image.linear(-1, 1)  // float: 1 = known pixel
        let color = try band(0, count: colorBands).converted(to: .float)
        let fill: VipsImage
        switch method {
        case .edge: fill = try VipsImage.pushPull(color: color, weight: keep, grey: format.maxValue / 2)
        case .blur: fill = try VipsImage.blurComposite(color: color, weight: keep, grey: format.maxValue / 2)
        case .patchMatch(let options): fill = try VipsImage.patchMatch(color: color, mask: mask, options: options)
        }
        // Soft masks mix: known·keep + fill·(1 − keep) — then the exact original wherever the mask is 0.
        var out = try VipsImage.mix(fill, color, keep).converted(to: format)
        if hasAlpha { out = try VipsImage.joiningBands([out, try band(bands - 1)]) }
        let zero = try mask.image.derive("mask == 0") {
            vshim_relational_const1($0, $1, Int32(VIPS_OPERATION_RELATIONAL_EQUAL.rawValue), 0)
        }
        let result = try withExtendedLifetime((zero, out)) {
            try VipsImage.make("ifthenelse") { vshim_ifthenelse(zero.pointer, self.pointer, out.pointer, $0) }
        }
        return try result.withInterpretation(interpretation).withMetadata(from: self).materialized()
    }

    /// PatchMatch completion of every pixel with a mask value above 0 (float colour in, float colour out).
    static func patchMatch(color: VipsImage, mask: Mask, options: PatchMatchOptions) throws -> VipsImage {
        let values = try color.floats()
        let hole = try mask.values().map { $0 > 0 }
        let level = PatchLevel(width: color.width, height: color.height, channels: color.bands, values: values, hole: hole)
        let filled = try PatchMatchFill.fill(level, options: options)
        return try VipsImage(floats: filled.values, width: color.width, height: color.height, bands: color.bands,
                             interpretation: .multiband)
    }

    /// c / w where w > 0, `fallback` where w == 0 (float).
    static func normalised(_ premultiplied: VipsImage, by weight: VipsImage, fallback: Double) throws -> VipsImage {
        let empty = try weight.derive("w == 0") {
            vshim_relational_const1($0, $1, Int32(VIPS_OPERATION_RELATIONAL_EQUAL.rawValue), 0)
        }
        let ones = try weight.linear(0, 1)
        let safe = try withExtendedLifetime((empty, ones)) {
            try make("ifthenelse") { vshim_ifthenelse(empty.pointer, ones.pointer, weight.pointer, $0) }
        }
        let color = try premultiplied.dividing(by: safe)
        let grey = try color.linear(0, fallback)
        return try withExtendedLifetime((empty, grey)) {
            try make("ifthenelse") { vshim_ifthenelse(empty.pointer, grey.pointer, color.pointer, $0) }
        }
    }

    /// Push-pull hole filling on float colour with per-pixel confidence `weight` in [0, 1].
    static func pushPull(color: VipsImage, weight: VipsImage, grey: Double) throws -> VipsImage {
        // Pull: a pyramid of premultiplied colour and confidence (confidence of a coarse pixel: the summed
        // confidence of the pixels below it, capped at 1).
        var levels: [(premultiplied: VipsImage, weight: VipsImage)] = []
        var p = try color.multiplying(weight).materialized()
        var w = try weight.materialized()
        while true {
            levels.append((p, w))
            if p.width == 1 && p.height == 1 { break }
            if try w.extrema().min > 0 { break }  // no hole left at this level
            let nw = max(1, (p.width + 1) / 2), nh = max(1, (p.height + 1) / 2)
            let factor = Double(p.width * p.height) / Double(nw * nh)
            let sumP = try p.resized(width: nw, height: nh, kernel: .linear).linear(factor, 0)
            let sumW = try w.resized(width: nw, height: nh, kernel: .linear).linear(factor, 0)
            let c = try normalised(sumP, by: sumW, fallback: grey)
            let capped = try VipsImage.rank([sumW, try sumW.linear(0, 1)], maximum: false)
            p = try c.multiplying(capped).materialized()
            w = try capped.materialized()
        }
        // Push: the coarsest level normalised, then each finer level fills what it lacks from the one above.
        var filled = try normalised(levels[levels.count - 1].premultiplied, by: levels[levels.count - 1].weight,
                                    fallback: grey).materialized()
        for level in levels.dropLast().reversed() {
            let up = try filled.resized(width: level.weight.width, height: level.weight.height, kernel: .linear)
            let missing = try level.weight.linear(-1, 1)
            filled = try level.premultiplied.adding(try up.multiplying(missing)).materialized()
        }
        return filled
    }

    /// A1111's masked-content "fill", in premultiplied float. Compositing one layer of alpha a "over" k times
    /// equals compositing it once with alpha 1 − (1 − a)^k, so each radius costs one step.
    static func blurComposite(color: VipsImage, weight: VipsImage, grey: Double) throws -> VipsImage {
        let premultiplied = try color.multiplying(weight)
        var accPremultiplied = try color.linear(0, 0)
        var accAlpha = try weight.linear(0, 0)
        for (radius, repeats) in [(256.0, 1), (64.0, 1), (16.0, 2), (4.0, 4), (2.0, 2), (0.0, 1)] {
            let blurredP = radius > 0 ? try premultiplied.softened(sigma: radius) : premultiplied
            let blurredA = radius > 0 ? try weight.softened(sigma: radius) : weight
            let layerColor = try normalised(blurredP, by: blurredA, fallback: grey)
            let transmitted = try blurredA.linear(-1, 1)
            var through = transmitted
            for _ in 1 ..< repeats { through = try through.multiplying(transmitted) }
            let effective = try through.linear(-1, 1)
            accPremultiplied = try layerColor.multiplying(effective).adding(try accPremultiplied.multiplying(through))
                .materialized()
            accAlpha = try effective.adding(try accAlpha.multiplying(through)).materialized()
        }
        return try normalised(accPremultiplied, by: accAlpha, fallback: grey)
    }
}
