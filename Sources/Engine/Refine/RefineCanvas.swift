import Imaging

/// The rows of the (padded) image a streamed refine is working on: from the lowest row not yet written out to
/// the lowest row not yet read. Above the main pass's frontier a row holds the input; below it, the refined
/// values that the seam bands then feather. Each row is 3 × width values (red, green, blue runs), so a
/// window's crop comes out planar (CHW) like the whole-image planes did.
struct RefineCanvas {
    let width: Int
    /// First row held.
    private(set) var base = 0
    private var values: [Float] = []
    private var rowLength: Int { 3 * width }

    init(width: Int) {
        self.width = width
    }

    /// One past the last row held.
    var top: Int { base + values.count / rowLength }

    /// Number of rows held (for memory accounting).
    var rowCount: Int { values.count / rowLength }

    mutating func append(rows: [Float]) {
        values += rows
    }

    /// Forgets rows above `y` (already written out, never read again).
    mutating func drop(below y: Int) {
        let n = min(max(0, y - base), rowCount)
        values.removeFirst(n * rowLength)
        base += n
    }

    /// The planar (CHW) values of `rect`, which must lie in the rows held.
    func crop(_ rect: PixelRect) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * rect.width * rect.height)
        values.withUnsafeBufferPointer { v in
            for c in 0 ..< 3 {
                for y in 0 ..< rect.height {
                    let src = (rect.y + y - base) * rowLength + c * width + rect.x
                    let dst = (c * rect.height + y) * rect.width
                    for x in 0 ..< rect.width { out[dst + x] = v[src + x] }
                }
            }
        }
        return out
    }

    /// Replaces the input with a final region of the main pass (interleaved, image coordinates).
    mutating func store(_ region: FinishedRegion) {
        let bands = region.bands, w = width, rowLength = self.rowLength, base = self.base
        values.withUnsafeMutableBufferPointer { v in
            for y in 0 ..< region.height {
                let row = (region.y + y - base) * rowLength + region.x
                let src = y * region.rowStride
                for x in 0 ..< region.width {
                    for c in 0 ..< 3 { v[row + c * w + x] = region.samples[src + x * bands + c] }
                }
            }
        }
    }

    /// image += feather · (band result − image) over a final region of a seam band's result (band coordinates).
    mutating func feather(_ region: FinishedRegion, band: SeamBand, mask: [Float]) {
        let r = band.rect, bands = region.bands, w = width, rowLength = self.rowLength, base = self.base
        values.withUnsafeMutableBufferPointer { v in
            for y in 0 ..< region.height {
                let by = region.y + y
                let row = (r.y + by - base) * rowLength + r.x + region.x
                let src = y * region.rowStride
                for x in 0 ..< region.width {
                    let m = band.pass == .verticalSeams ? mask[region.x + x] : mask[by]
                    for c in 0 ..< 3 {
                        let i = row + c * w + x
                        let value = v[i]
                        v[i] = value + m * (region.samples[src + x * bands + c] - value)
                    }
                }
            }
        }
    }

    /// Rows `range` (held), each 3 × width values, cropped to the first `width` columns.
    func rows(_ range: Range<Int>, croppedTo cropWidth: Int) -> [Float] {
        var out = [Float](repeating: 0, count: range.count * 3 * cropWidth)
        values.withUnsafeBufferPointer { v in
            for (k, y) in range.enumerated() {
                for c in 0 ..< 3 {
                    let src = (y - base) * rowLength + c * width
                    let dst = (k * 3 + c) * cropWidth
                    for x in 0 ..< cropWidth { out[dst + x] = v[src + x] }
                }
            }
        }
        return out
    }
}
