/// Reads an image's colour top to bottom as rows of planar RGB in [-1, 1] — the values `planarRGB()` gives,
/// row by row — so a job over a huge image (SD refine) never decodes it whole. Rows are decoded in strips
/// aligned to `RowBandReader.stripHeight` for the same reason as there: libvips' sequential loaders decode
/// ahead in fixed blocks and refuse a read that starts inside a block they have passed.
public final class RGBRowReader {
    /// The image converted to three 8- or 16-bit colour bands (lazy).
    public let rgb: VipsImage
    public var width: Int { rgb.width }
    public var height: Int { rgb.height }
    /// Decoded rows not handed out yet, each 3 × width values (red, green, blue runs).
    private var decoded: [Float] = []
    private var decodedY = 0
    private var nextRow = 0

    public init(image: VipsImage) throws {
        rgb = try image.rgbColor()
    }

    /// Rows `range` (starting where the previous call ended), each as 3 × width values: the row's red samples,
    /// then green, then blue, normalised as `planarRGB()` does.
    public func rows(_ range: Range<Int>) throws -> [Float] {
        guard range.lowerBound == nextRow, range.upperBound <= height else {
            throw ImagingError.invalidArgument("rows \(range) requested after row \(nextRow) of \(height): read rows in order")
        }
        let rowLength = 3 * width
        if decodedY + decoded.count / rowLength < range.upperBound {
            let from = decodedY + decoded.count / rowLength
            let block = RowBandReader.stripHeight
            let to = min(height, (range.upperBound + block - 1) / block * block)
            let strip = try rgb.cropped(to: PixelRect(x: 0, y: from, width: width, height: to - from))
            switch rgb.format {
            case .uchar: append(try strip.bytes(), rows: to - from, scale: 255) { Float($0) }
            default: append(try strip.shorts(), rows: to - from, scale: 65535) { Float($0) }
            }
        }
        let start = (range.lowerBound - decodedY) * rowLength, end = (range.upperBound - decodedY) * rowLength
        let out = Array(decoded[start ..< end])
        decoded.removeFirst(end)
        decodedY = range.upperBound
        nextRow = range.upperBound
        return out
    }

    private func append<T>(_ samples: [T], rows: Int, scale: Float, _ convert: (T) -> Float) {
        let w = width, base = decoded.count
        decoded += [Float](repeating: 0, count: rows * 3 * w)
        decoded.withUnsafeMutableBufferPointer { out in
            for y in 0 ..< rows {
                for x in 0 ..< w {
                    for c in 0 ..< 3 {
                        // Two float32 roundings, as planarRGB() (numpy/torch): (v / scale) then (2 * x - 1).
                        let unit = convert(samples[(y * w + x) * 3 + c]) / scale
                        out[base + (y * 3 + c) * w + x] = 2 * unit - 1
                    }
                }
            }
        }
    }
}
