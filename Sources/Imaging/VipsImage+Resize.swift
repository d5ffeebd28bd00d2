import VipsShim

extension VipsImage {
    /// Resamples to exactly `width`×`height`. With an alpha band the colour is premultiplied by alpha for the
    /// resampling and divided back afterwards, so transparent pixels' colours cannot bleed into visible edges
    /// as dark halos. The sample format is kept: 8-bit stays 8-bit, 16-bit stays 16-bit. 16-bit (and alpha)
    /// images are resampled in float: libvips' integer path uses 12-bit fixed-point weights that move a flat
    /// 16-bit area by several levels.
    public func resized(width: Int, height: Int, kernel: ResizeKernel) throws -> VipsImage {
        guard width > 0, height > 0 else {
            throw ImagingError.invalidArgument("resize target must be positive, got \(width)x\(height)")
        }
        if width == self.width && height == self.height { return self }
        let hscale = Double(width) / Double(self.width)
        let vscale = Double(height) / Double(self.height)
        let originalFormat = format
        let originalInterpretation = interpretation
        let alpha = hasAlpha
        var working = self
        let viaFloat = alpha || originalFormat != .uchar
        if viaFloat && !alpha && originalFormat != .float {
            working = try working.converted(to: .float)
        }
        if alpha {
            let maxAlpha = originalFormat.maxValue
            working = try working.derive("premultiply") { vshim_premultiply($0, $1, maxAlpha) }
        }
        working = try working.derive("resize") { vshim_resize($0, $1, hscale, vscale, Int32(kernel.vips.rawValue)) }
        working = try working.exactSize(width: width, height: height)
        if alpha {
            let maxAlpha = originalFormat.maxValue
            working = try working.derive("unpremultiply") { vshim_unpremultiply($0, $1, maxAlpha) }
        }
        if viaFloat {
            working = try working.converted(to: originalFormat)
        }
        return try working.withInterpretation(originalInterpretation)
    }

    /// libvips rounds output sizes; trim or edge-extend the odd last row/column so the size is exact.
    func exactSize(width: Int, height: Int) throws -> VipsImage {
        if self.width == width && self.height == height { return self }
        var image = self
        if image.width > width || image.height > height {
            let w = min(width, image.width), h = min(height, image.height)
            image = try image.derive("crop") { vshim_extract_area($0, $1, 0, 0, Int32(w), Int32(h)) }
        }
        if image.width < width || image.height < height {
            image = try image.derive("extend") {
                vshim_embed($0, $1, 0, 0, Int32(width), Int32(height), Int32(VIPS_EXTEND_COPY.rawValue))
            }
        }
        return image
    }

    /// Rounds to nearest and clips into `format` (libvips' cast alone truncates floats).
    func converted(to format: PixelFormat) throws -> VipsImage {
        if self.format == format { return self }
        var image = self
        if format != .float && format != .double, self.format == .float || self.format == .double {
            image = try image.derive("round") { vshim_round_rint($0, $1) }
        }
        return try image.derive("cast") { vshim_cast($0, $1, Int32(format.vips.rawValue)) }
    }

    func withInterpretation(_ interpretation: Interpretation) throws -> VipsImage {
        if self.interpretation == interpretation { return self }
        return try derive("interpretation") { vshim_copy_interpretation($0, $1, Int32(interpretation.vips.rawValue)) }
    }
}
