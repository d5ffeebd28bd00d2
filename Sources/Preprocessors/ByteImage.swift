/// An 8-bit image as sd-webui-controlnet's numpy arrays hold it: rows of interleaved samples (HWC), 1 (grey map)
/// or 3 (RGB) channels. The preprocessors work on these so every rounding step can follow OpenCV's.
public struct ByteImage: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) throws(PreprocessorError) {
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        let (count, o2) = area.multipliedReportingOverflow(by: max(channels, 0))
        guard width > 0, height > 0, channels == 1 || channels == 3, !o1, !o2, count == pixels.count else {
            throw .unsupportedImage(detail: "\(pixels.count) samples do not make a \(width)x\(height) image with \(channels) channels")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image of zeros (internal: sizes are already checked by the caller).
    init(zeros width: Int, height: Int, channels: Int) {
        self.width = width
        self.height = height
        self.channels = channels
        pixels = [UInt8](repeating: 0, count: width * height * channels)
    }

    /// Three channels: a grey map repeated, as HWC3 does with a 2-D array.
    public var rgb: ByteImage {
        if channels == 3 { return self }
        var out = ByteImage(zeros: width, height: height, channels: 3)
        for i in 0 ..< width * height {
            let v = pixels[i]
            out.pixels[3 * i] = v
            out.pixels[3 * i + 1] = v
            out.pixels[3 * i + 2] = v
        }
        return out
    }

    /// The top-left `width`×`height` region (remove_pad).
    func cropped(width w: Int, height h: Int) -> ByteImage {
        if w == width && h == height { return self }
        var out = ByteImage(zeros: w, height: h, channels: channels)
        let rowBytes = w * channels
        for y in 0 ..< h {
            let src = y * width * channels
            out.pixels.replaceSubrange(y * rowBytes ..< (y + 1) * rowBytes, with: pixels[src ..< src + rowBytes])
        }
        return out
    }

    /// Edge-padded on the right and bottom (numpy's `mode="edge"`).
    func edgePadded(width w: Int, height h: Int) -> ByteImage {
        if w == width && h == height { return self }
        var out = ByteImage(zeros: w, height: h, channels: channels)
        for y in 0 ..< h {
            let sy = min(y, height - 1)
            for x in 0 ..< w {
                let sx = min(x, width - 1)
                for c in 0 ..< channels {
                    out.pixels[(y * w + x) * channels + c] = pixels[(sy * width + sx) * channels + c]
                }
            }
        }
        return out
    }
}
