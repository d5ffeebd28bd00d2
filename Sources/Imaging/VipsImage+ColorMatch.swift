import VipsShim

extension VipsImage {
    /// Shifts this (repainted) image's colours so that, inside `mask`, each CIELAB channel has the mean and
    /// standard deviation that `reference` (the original) has outside it (Reinhard et al.'s colour transfer;
    /// A1111's color correction matches full histograms instead). Mask values are statistical weights.
    /// `strength` in [0, 1] blends between no change and the full transfer. Bands, format and alpha are kept.
    public func colorMatched(to reference: VipsImage, mask: Mask, strength: Double = 1) throws -> VipsImage {
        guard reference.size == size, mask.size == size else {
            throw ImagingError.sizeMismatch(what: reference.size == size ? "the mask" : "the reference image",
                                            expected: size, actual: reference.size == size ? mask.size : reference.size)
        }
        guard (0 ... 1).contains(strength) else {
            throw ImagingError.invalidArgument("color match strength must be in [0, 1], got \(strength)")
        }
        let inside = mask.image
        let outside = try inside.linear(-1, 1)
        let source = try lab()
        let target = try reference.lab()
        var channels: [VipsImage] = []
        for c in 0 ..< 3 {
            let s = try source.band(c), t = try target.band(c)
            let (sMean, sStd) = try VipsImage.weightedStatistics(s, weights: inside)
            let (tMean, tStd) = try VipsImage.weightedStatistics(t, weights: outside)
            // Flat sources keep their spread (no division by ~0).
            let gain = sStd > 1e-6 ? tStd / sStd : 1
            let fullGain = 1 + strength * (gain - 1)
            let offset = strength * (tMean - sMean * gain)
            // x' = x + strength·((x − μs)·g + μt − x) = x·(1 + strength(g − 1)) + strength(μt − μs·g)
            channels.append(try s.linear(fullGain, offset))
        }
        let matchedLab = try VipsImage.joiningBands(channels).withInterpretation(.other(Int(VIPS_INTERPRETATION_LAB.rawValue)))
        let space: VipsInterpretation = format == .ushort ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB
        var rgb = try matchedLab.derive("colourspace") { vshim_colourspace($0, $1, Int32(space.rawValue)) }
        rgb = try rgb.converted(to: format)
        if colorBands == 1 { rgb = try rgb.colorMatching(bands: 1).converted(to: format) }
        if hasAlpha { rgb = try VipsImage.joiningBands([rgb, try band(bands - 1)]) }
        return try rgb.withInterpretation(interpretation).withMetadata(from: self)
    }

    /// The colour bands in CIELAB (float).
    func lab() throws -> VipsImage {
        var color = try band(0, count: colorBands)
        if color.bands == 1 { color = try color.colorMatching(bands: 3).converted(to: format) }
        let tagged = try color.withInterpretation(format == .ushort ? .rgb16 : .srgb)
        return try tagged.derive("colourspace") { vshim_colourspace($0, $1, Int32(VIPS_INTERPRETATION_LAB.rawValue)) }
    }

    /// Weighted mean and standard deviation of a one-band image.
    static func weightedStatistics(_ x: VipsImage, weights w: VipsImage) throws -> (mean: Double, std: Double) {
        func average(_ image: VipsImage) throws -> Double {
            var value = 0.0
            try withExtendedLifetime(image) {
                guard vshim_avg(image.pointer, &value) == 0 else {
                    throw ImagingError.operationFailed(operation: "avg", detail: VipsErrorBuffer.take())
                }
            }
            return value
        }
        let total = try average(w)
        guard total > 0 else { return (try average(x), 0) }
        let xw = try x.multiplying(w)
        let mean = try average(xw) / total
        let second = try average(try xw.multiplying(x)) / total
        return (mean, max(0, second - mean * mean).squareRoot())
    }
}
