import Imaging

/// A deterministic, textured RGB test image (gradients plus a pattern, so the network has work to do).
enum SyntheticImage {
    static func pixels(width: Int, rows: Range<Int>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * rows.count * 3)
        for (r, y) in rows.enumerated() {
            for x in 0..<width {
                let i = (r * width + x) * 3
                out[i] = UInt8(truncatingIfNeeded: x &* 255 / max(1, width - 1))
                out[i + 1] = UInt8(truncatingIfNeeded: y &* 255 / 3000)
                out[i + 2] = UInt8(truncatingIfNeeded: ((x / 7) ^ (y / 5)) &* 37)
            }
        }
        return out
    }

    /// Written before the measured phase (the input is small next to the ×4 output), then freed.
    static func write(width: Int, height: Int, to path: String) throws {
        try VipsImage(bytes: pixels(width: width, rows: 0..<height), width: width, height: height, bands: 3)
            .write(to: path, overwrite: true)
    }
}
