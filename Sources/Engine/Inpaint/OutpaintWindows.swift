import Imaging

/// The windows a model repaints when the new border area of an outpaint canvas is larger than the model's
/// resolution.
///
/// How windows are chosen: the canvas is cut by the shared `TileGrid` (the upscaler's tiling: square tiles of the
/// model's resolution, `overlap` px shared between neighbours, the last row/column moved inward so every tile is
/// full size). Only the tiles that touch the repaint area (mask > 0: the new strips plus the seam feather) are
/// kept, in the grid's row-major order. For a 4000×3000 photo extended by 512 px on the right that is one column
/// of tiles along the right edge, so the UNet never runs over the untouched interior; each kept tile still holds
/// original pixels beside the new area, which is the context the model continues from. Windows are repainted
/// one after another on the working canvas (`ModelInpaint.outpaint`), so each sees what its neighbours already
/// painted in the overlap and continues it instead of being cross-faded with it; every window is pasted through
/// the seam mask, which keeps the original exact.
public struct OutpaintWindows: Sendable {
    public let grid: TileGrid
    public let tiles: [Tile]

    /// `repaint` lists rectangles (canvas pixels) where the mask may be above 0.
    public init(canvas: ImageSize, repaint: [PixelRect], tileSize: Int, overlap: Int) throws {
        grid = try TileGrid(imageSize: canvas, tileSize: tileSize, overlap: overlap)
        var seen = Set<Int>()
        var kept: [Tile] = []
        for rect in repaint where !rect.isEmpty {
            for tile in grid.tiles(intersecting: rect) where seen.insert(tile.index).inserted { kept.append(tile) }
        }
        tiles = kept.sorted { $0.index < $1.index }
    }

    /// The rectangles of an extended canvas the model must repaint: each new strip, widened by the seam feather
    /// into the original.
    public static func repaintRects(canvas: ImageSize, original: PixelRect, extension ext: CanvasExtension,
                                    seamFeather: Int) -> [PixelRect] {
        let f = seamFeather
        var rects: [PixelRect] = []
        if ext.left > 0 { rects.append(PixelRect(x: 0, y: 0, width: min(canvas.width, original.x + f), height: canvas.height)) }
        if ext.right > 0 {
            let x = max(0, original.maxX - f)
            rects.append(PixelRect(x: x, y: 0, width: canvas.width - x, height: canvas.height))
        }
        if ext.top > 0 { rects.append(PixelRect(x: 0, y: 0, width: canvas.width, height: min(canvas.height, original.y + f))) }
        if ext.bottom > 0 {
            let y = max(0, original.maxY - f)
            rects.append(PixelRect(x: 0, y: y, width: canvas.width, height: canvas.height - y))
        }
        return rects
    }

    /// True when one pass at the model's resolution covers the canvas (no windows needed).
    public static func fitsInOnePass(canvas: ImageSize, modelResolution: Int) -> Bool {
        canvas.width <= modelResolution && canvas.height <= modelResolution
    }
}
