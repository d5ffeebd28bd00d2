import Imaging

extension ByteImage {
    /// The image as sd-webui-controlnet's HWC3 sees it: RGB as it is, grey repeated into three channels, and an
    /// alpha band composited over white in float32 and truncated (colour × α + 255 × (1 − α), α = a / 255).
    /// 16-bit samples are first rounded to 8 bits (v / 257), since the webui only ever handles 8-bit arrays.
    public init(hwc3 image: VipsImage) throws {
        let colorBands = image.colorBands
        guard colorBands == 1 || colorBands == 3, image.bands <= colorBands + 1 else {
            throw PreprocessorError.unsupportedImage(
                detail: "has \(image.bands) bands; preprocessors take RGB or grey, with or without alpha")
        }
        let samples: [UInt8]
        switch image.format {
        case .uchar: samples = try image.bytes()
        case .ushort: samples = try image.shorts().map { UInt8((UInt32($0) * 255 + 32767) / 65535) }
        default:
            throw PreprocessorError.unsupportedImage(
                detail: "has \(image.bitDepth)-bit samples; preprocessors take 8- or 16-bit images")
        }
        let bands = image.bands, hasAlpha = image.hasAlpha
        let count = image.width * image.height
        var out = [UInt8](repeating: 0, count: count * 3)
        for i in 0 ..< count {
            let base = i * bands
            for c in 0 ..< 3 {
                let colour = samples[base + (colorBands == 1 ? 0 : c)]
                if hasAlpha {
                    let alpha = Float(samples[base + colorBands]) / 255
                    let blended = Float(colour) * alpha + 255 * (1 - alpha)
                    out[i * 3 + c] = UInt8(min(max(blended, 0), 255))  // truncates, as astype(uint8)
                } else {
                    out[i * 3 + c] = colour
                }
            }
        }
        try self.init(width: image.width, height: image.height, channels: 3, pixels: out)
    }

    /// An 8-bit sRGB image with three bands (a grey map is repeated).
    public func vipsImage() throws -> VipsImage {
        let three = rgb
        return try VipsImage(bytes: three.pixels, width: width, height: height, bands: 3)
    }
}
