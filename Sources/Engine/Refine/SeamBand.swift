import Foundation
import Imaging

/// One band of the seam-fix pass: a strip centred on a seam of the main tile grid, spanning the image along
/// the seam. It is refined window by window (its own `TileGrid`, blended with that grid's weights) and then
/// feathered into the image across its width, so its edges leave the image unchanged.
public struct SeamBand: Equatable, Sendable {
    public let pass: RefinePass
    /// Index of the seam: between grid columns index and index + 1 (vertical) or rows (horizontal).
    public let index: Int
    public let rect: PixelRect

    /// Bands over every seam of `grid`: vertical seams first (left to right), then horizontal (top to bottom).
    /// Each is centred on the middle of the overlap of the two tiles it separates, `width` wide (clamped to
    /// the image), and spans the whole image along the seam.
    public static func bands(of grid: TileGrid, width: Int) -> [SeamBand] {
        let size = grid.imageSize
        var out: [SeamBand] = []
        if grid.columns > 1 {
            let w = min(width, size.width)
            for c in 0 ..< grid.columns - 1 {
                let left = grid.tile(column: c, row: 0).input, right = grid.tile(column: c + 1, row: 0).input
                let centre = (right.x + left.maxX) / 2
                let x = min(max(centre - w / 2, 0), size.width - w)
                out.append(SeamBand(pass: .verticalSeams, index: c, rect: PixelRect(x: x, y: 0, width: w, height: size.height)))
            }
        }
        if grid.rows > 1 {
            let h = min(width, size.height)
            for r in 0 ..< grid.rows - 1 {
                let top = grid.tile(column: 0, row: r).input, bottom = grid.tile(column: 0, row: r + 1).input
                let centre = (bottom.y + top.maxY) / 2
                let y = min(max(centre - h / 2, 0), size.height - h)
                out.append(SeamBand(pass: .horizontalSeams, index: r, rect: PixelRect(x: 0, y: y, width: size.width, height: h)))
            }
        }
        return out
    }

    /// Feather across the band (sin², 0 at both edges, 1 in the middle): how much of the refined band replaces
    /// the image at each offset across it.
    public var feather: [Float] {
        let across = pass == .verticalSeams ? rect.width : rect.height
        return (0 ..< across).map { k in
            let s = sin(Double.pi * (Double(k) + 0.5) / Double(across))
            return Float(s * s)
        }
    }

    /// Seed coordinates of window `window` of this band's grid: (seam index, window row) for vertical seams,
    /// (window column, seam index) for horizontal ones.
    public func seed(base: UInt64, window: Tile) -> UInt64 {
        pass == .verticalSeams
            ? RefineSeed.derive(base: base, pass: pass, column: index, row: window.row)
            : RefineSeed.derive(base: base, pass: pass, column: window.column, row: index)
    }
}
