import VipsShim

/// An RGB image as float32 planes (CHW, the layout of one [1,3,H,W] tensor) in [-1, 1], normalised exactly
/// as diffusers' VaeImageProcessor does: float32(v) / 255 (or / 65535 for 16-bit input), then 2x - 1.
public struct PlanarRGB: Equatable, Sendable {
    public let width: Int
    public let height: Int
    /// 3 × height × width values: all red, then all green, then all blue.
    public var values: [Float]

    public init(width: Int, height: Int, values: [Float]) throws {
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard width > 0, height > 0, !overflow, pixels <= values.count, values.count == 3 * pixels else {
            throw ImagingError.invalidArgument("\(values.count) values do not make 3 planes of \(width)x\(height)")
        }
        self.width = width
        self.height = height
        self.values = values
    }
}

extension VipsImage {
    /// The colour of the image as planar RGB in [-1, 1]. Alpha is dropped (as PIL's convert("RGB") does; callers
    /// that need it keep the alpha band separately), grey is repeated into three planes, other colour spaces are
    /// converted to sRGB. 8-bit samples are divided by 255, 16-bit by 65535.
    public func planarRGB() throws -> PlanarRGB { try planarRGB(unit: false) }

    /// The same planes in [0, 1] (v / 255 or v / 65535, one float32 rounding), as control pictures are given to
    /// adapters and ControlNets.
    public func planarUnitRGB() throws -> PlanarRGB { try planarRGB(unit: true) }

    private func planarRGB(unit signedOff: Bool) throws -> PlanarRGB {
        let rgb = try rgbColor()
        let w = rgb.width, h = rgb.height, plane = w * h
        var values = [Float](repeating: 0, count: 3 * plane)
        func fill<T>(_ samples: [T], scale: Float, _ convert: (T) -> Float) {
            values.withUnsafeMutableBufferPointer { out in
                for i in 0 ..< plane {
                    for c in 0 ..< 3 {
                        // Two float32 roundings, as numpy/torch: (v / scale) then (2 * x - 1).
                        let unit = convert(samples[i * 3 + c]) / scale
                        out[c * plane + i] = signedOff ? unit : 2 * unit - 1
                    }
                }
            }
        }
        switch rgb.format {
        case .uchar: fill(try rgb.bytes(), scale: 255) { Float($0) }
        case .ushort: fill(try rgb.shorts(), scale: 65535) { Float($0) }
        default:
            throw ImagingError.invalidArgument("planar RGB needs 8- or 16-bit samples, got \(rgb.bitDepth)-bit")
        }
        return try PlanarRGB(width: w, height: h, values: values)
    }

    /// An sRGB image from planar values in [-1, 1], as diffusers' postprocess: clamp(x * 0.5 + 0.5, 0, 1),
    /// times 255 (or 65535), rounded half to even (numpy's round), stored as 8- or 16-bit samples.
    public convenience init(planarRGB planar: PlanarRGB, bitDepth: Int = 8) throws {
        guard bitDepth == 8 || bitDepth == 16 else {
            throw ImagingError.invalidArgument("bit depth must be 8 or 16, got \(bitDepth)")
        }
        let plane = planar.width * planar.height
        let scale: Float = bitDepth == 8 ? 255 : 65535
        func quantised(_ i: Int, _ c: Int) -> Float {
            let unit = min(max(planar.values[c * plane + i] * 0.5 + 0.5, 0), 1)
            return (unit * scale).rounded(.toNearestOrEven)
        }
        if bitDepth == 8 {
            var bytes = [UInt8](repeating: 0, count: 3 * plane)
            for i in 0 ..< plane { for c in 0 ..< 3 { bytes[i * 3 + c] = UInt8(quantised(i, c)) } }
            try self.init(bytes: bytes, width: planar.width, height: planar.height, bands: 3)
        } else {
            var shorts = [UInt16](repeating: 0, count: 3 * plane)
            for i in 0 ..< plane { for c in 0 ..< 3 { shorts[i * 3 + c] = UInt16(quantised(i, c)) } }
            try self.init(shorts: shorts, width: planar.width, height: planar.height, bands: 3)
        }
    }

    /// Three colour bands, 8- or 16-bit, alpha removed.
    func rgbColor() throws -> VipsImage {
        var image = self
        if image.hasAlpha {
            let keep = image.bands - 1
            image = try image.derive("drop alpha") { vshim_extract_band($0, $1, 0, Int32(keep)) }
        }
        if image.bands == 1 {
            let grey = image
            let two = try VipsImage.make("bandjoin") { vshim_bandjoin2(grey.pointer, grey.pointer, $0) }
            image = try VipsImage.make("bandjoin") { vshim_bandjoin2(two.pointer, grey.pointer, $0) }
            withExtendedLifetime(grey) {}
        } else if image.bands != 3 {
            let target = image.format == .ushort ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB
            image = try image.derive("colourspace") { vshim_colourspace($0, $1, Int32(target.rawValue)) }
        }
        if image.format != .uchar && image.format != .ushort {
            image = try image.converted(to: .uchar)
        }
        return image
    }
}
