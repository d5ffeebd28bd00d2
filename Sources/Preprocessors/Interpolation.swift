/// The OpenCV interpolations sd-webui-controlnet's preprocessors use, each reproduced with OpenCV's own 8-bit
/// arithmetic (see `ByteImage.resized`).
public enum Interpolation: Sendable {
    /// cv2.INTER_NEAREST: source index floor(d × src / dst).
    case nearest
    /// cv2.INTER_AREA: box averaging when shrinking, OpenCV's area-weighted linear when enlarging.
    case area
    /// cv2.INTER_CUBIC: Keys' kernel with a = −0.75, 11-bit fixed-point weights.
    case cubic
}

extension ByteImage {
    /// Resamples to `width`×`height` exactly as cv2.resize does on a uint8 array without Intel IPP (OpenCV's own
    /// code paths, which the IPP-less builds run; see scripts/fixtures/make_preprocess_fixtures.py).
    /// The same size returns the image itself, as cv2.resize copies it.
    public func resized(width w: Int, height h: Int, _ interpolation: Interpolation) throws(PreprocessorError) -> ByteImage {
        guard w > 0, h > 0 else {
            throw .invalidParameter(field: "resolution", reason: "gives an empty \(w)x\(h) image")
        }
        if w == width && h == height { return self }
        switch interpolation {
        case .nearest: return nearestResized(width: w, height: h)
        case .cubic: return cubicResized(width: w, height: h)
        case .area: return areaResized(width: w, height: h)
        }
    }

    private func nearestResized(width w: Int, height h: Int) -> ByteImage {
        // OpenCV's resizeNN: ifx = 1 / (dst / src) in double, index = floor(d * ifx), clamped.
        let fx = 1.0 / (Double(w) / Double(width)), fy = 1.0 / (Double(h) / Double(height))
        let xs = (0 ..< w).map { min(Int((Double($0) * fx).rounded(.down)), width - 1) }
        var out = ByteImage(zeros: w, height: h, channels: channels)
        for y in 0 ..< h {
            let sy = min(Int((Double(y) * fy).rounded(.down)), height - 1)
            for x in 0 ..< w {
                for c in 0 ..< channels {
                    out.pixels[(y * w + x) * channels + c] = pixels[(sy * width + xs[x]) * channels + c]
                }
            }
        }
        return out
    }
}
