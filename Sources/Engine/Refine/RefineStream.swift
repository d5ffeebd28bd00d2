import Imaging

/// One run of a refine, streamed by rows of tiles (see `TileRefiner` for the passes). The whole-image
/// algorithm it reproduces bit for bit is, in order: every main tile reads the padded input; each vertical seam
/// band, left to right, reads the image as it stands after the main pass and the bands before it, then is
/// feathered in; each horizontal band, top to bottom, likewise after all vertical bands. Every value here is
/// computed by the same operations from the same inputs; only the schedule differs:
///
/// - main row r runs once its input rows are read; its final regions replace the input in the canvas (a region
///   lies left of the row's next tile and above the next row, so no tile still to run reads it);
/// - window r of vertical band c runs once the main pass has finished its rows and every earlier vertical band
///   that shares columns with band c has been feathered over them (it then reads exactly what it read in the
///   whole-image order: no later band has touched those rows yet, since each waits on band c in turn);
/// - horizontal band h runs once all vertical bands and band h − 1 are done over its rows;
/// - rows above all of those frontiers (and above the next horizontal band) are final and are written out.
///
/// Memory: the canvas holds the rows between the last row written and the last row read — a few rows of tiles
/// (more when neighbouring seam bands overlap, e.g. overlap ≥ tile/3, since each then waits on the one before) —
/// plus each assembler's shared float rows and tile window. It depends on the width and the tile size, not the height.
final class RefineStream {
    /// A vertical seam band's progress down the image.
    final class VerticalBand {
        let band: SeamBand
        let grid: TileGrid
        let mask: [Float]
        var assembler: TileAssembler
        var next = 0
        /// Rows this band has been feathered into (all rows above this one).
        var finished = 0
        /// Earlier vertical bands sharing columns with this one.
        var dependencies: [Int] = []

        init(band: SeamBand, grid: TileGrid) throws {
            self.band = band
            self.grid = grid
            mask = band.feather
            assembler = try TileAssembler(grid: grid, bands: 3)
        }

        var isDone: Bool { next == grid.tiles.count }
    }

    let refiner: TileRefiner
    /// The refine's controls in the padded frame, cut per window.
    let controls: [ControlNetInput]
    /// The refine's adapters in the padded frame, cut per window.
    let adapters: [T2IAdapterPicture]
    let size: ImageSize
    let grid: TileGrid
    let read: (Range<Int>) throws -> [Float]
    let write: (Int, [Float], Int) throws -> Void
    let progress: (RefineProgress) -> Void
    let isCancelled: () -> Bool
    let onTile: (Tile, [Float]) -> Void

    private var canvas: RefineCanvas
    private var main: TileAssembler
    private var mainFinished = 0
    private let vertical: [VerticalBand]
    private let horizontal: [(band: SeamBand, grid: TileGrid)]
    private var nextHorizontal = 0
    private var written = 0
    private var lastRow: [Float] = []
    private var done = 0
    private let windows: Int
    /// Most rows the canvas held at once (for memory tests).
    private(set) var peakCanvasRows = 0
    /// Rows read or written per call: a whole row of tiles at once made three tile-tall float copies of the
    /// full width (the read, its padded copy, the written crop), about 150 MB each at 24000 px and tile 512.
    static let transferRows = 64

    /// - Parameters:
    ///   - read: original rows in order, each 3 × size.width values (red, green, blue runs) in [-1, 1].
    ///   - write: (first row, rows, count) of finished rows in order, cropped to `size`, same layout.
    init(refiner: TileRefiner, size: ImageSize, read: @escaping (Range<Int>) throws -> [Float],
         write: @escaping (Int, [Float], Int) throws -> Void, progress: @escaping (RefineProgress) -> Void,
         isCancelled: @escaping () -> Bool, onTile: @escaping (Tile, [Float]) -> Void) throws {
        self.refiner = refiner
        self.size = size
        self.read = read
        self.write = write
        self.progress = progress
        self.isCancelled = isCancelled
        self.onTile = onTile
        grid = try refiner.grid(for: size)
        controls = try refiner.controls(forImageOf: size)
        adapters = try refiner.adapters(forImageOf: size)
        canvas = RefineCanvas(width: grid.imageSize.width)
        main = try TileAssembler(grid: grid, bands: 3)
        let settings = refiner.settings
        let bands = settings.seamFix ? SeamBand.bands(of: grid, width: settings.seamBandWidth) : []
        var vertical: [VerticalBand] = [], horizontal: [(band: SeamBand, grid: TileGrid)] = []
        for band in bands {
            let bandGrid = try TileGrid(imageSize: band.rect.size, tileSize: settings.tile, overlap: settings.overlap)
            if band.pass == .verticalSeams {
                let v = try VerticalBand(band: band, grid: bandGrid)
                v.dependencies = vertical.indices.filter { !vertical[$0].band.rect.intersection(band.rect).isEmpty }
                vertical.append(v)
            } else {
                horizontal.append((band, bandGrid))
            }
        }
        self.vertical = vertical
        self.horizontal = horizontal
        var sizes = Set(grid.tiles.map(\.input.size))
        for band in vertical { sizes.formUnion(band.grid.tiles.map(\.input.size)) }
        for (_, bandGrid) in horizontal { sizes.formUnion(bandGrid.tiles.map(\.input.size)) }
        try refiner.checkAdapters(forWindowsOf: sizes)
        windows = grid.tiles.count + vertical.reduce(0) { $0 + $1.grid.tiles.count }
            + horizontal.reduce(0) { $0 + $1.grid.tiles.count }
    }

    func run() throws {
        for row in 0 ..< grid.rows {
            let tiles = grid.tiles(inRow: row)
            try readRows(through: tiles[tiles.startIndex].input.maxY)
            for tile in tiles {
                let seed = RefineSeed.derive(base: refiner.settings.seed, pass: .tiles, column: tile.column, row: tile.row)
                let planes = try refiner.refineWindow(canvas.crop(tile.input), rect: tile.input, controls: controls, adapters: adapters, seed: seed,
                                                      strength: refiner.settings.strength, isCancelled: isCancelled)
                onTile(tile, planes)
                // A region lent here lies left of the next tile of this row and above the next row, so it never
                // overwrites input a tile still to run would read.
                try main.add(tile, planes: planes) { canvas.store($0) }
                mainFinished = main.finishedRows
                report(.tiles)
            }
            try advanceSeams()
        }
        guard mainFinished == grid.imageSize.height, vertical.allSatisfy(\.isDone), nextHorizontal == horizontal.count,
              written == size.height else {
            throw EngineError.invalidParameter(field: "refine", reason: "internal error: the refine stream stopped at row \(written)")
        }
    }

    private func report(_ pass: RefinePass) {
        done += 1
        progress(RefineProgress(window: done, windows: windows, pass: pass))
    }

    /// Reads input rows up to `end` (padded coordinates), repeating the last row and column into the padding.
    private func readRows(through end: Int) throws {
        let paddedWidth = grid.imageSize.width, w = size.width
        while canvas.top < end {
            let from = canvas.top
            if from < size.height {
                let to = min(end, size.height, from + Self.transferRows)
                let source = try read(from ..< to)
                var rows = [Float](repeating: 0, count: (to - from) * 3 * paddedWidth)
                for k in 0 ..< to - from {
                    for c in 0 ..< 3 {
                        let src = (k * 3 + c) * w, dst = (k * 3 + c) * paddedWidth
                        for x in 0 ..< paddedWidth { rows[dst + x] = source[src + min(x, w - 1)] }
                    }
                }
                if to == size.height { lastRow = Array(rows[(to - from - 1) * 3 * paddedWidth ..< (to - from) * 3 * paddedWidth]) }
                canvas.append(rows: rows)
            } else {
                canvas.append(rows: lastRow)
            }
            peakCanvasRows = max(peakCanvasRows, canvas.rowCount)
        }
    }

    /// Runs every seam window whose rows are ready, then writes the rows nothing will change any more.
    private func advanceSeams() throws {
        var progressed = true
        while progressed {
            progressed = false
            for band in vertical { while try runVerticalWindow(band) { progressed = true } }
            while try runHorizontalBand() { progressed = true }
        }
        var final = mainFinished
        for band in vertical { final = min(final, band.finished) }
        if nextHorizontal < horizontal.count { final = min(final, horizontal[nextHorizontal].band.rect.y) }
        let end = min(final, size.height)
        while end > written {
            let to = min(end, written + Self.transferRows)
            try write(written, canvas.rows(written ..< to, croppedTo: size.width), to - written)
            written = to
        }
        canvas.drop(below: final)
    }

    private func runVerticalWindow(_ v: VerticalBand) throws -> Bool {
        guard !v.isDone else { return false }
        let window = v.grid.tiles[v.next]
        let rect = PixelRect(x: v.band.rect.x + window.input.x, y: v.band.rect.y + window.input.y,
                             width: window.input.width, height: window.input.height)
        guard mainFinished >= rect.maxY, v.dependencies.allSatisfy({ vertical[$0].finished >= rect.maxY }) else { return false }
        let planes = try refiner.refineWindow(canvas.crop(rect), rect: rect, controls: controls, adapters: adapters,
                                              seed: v.band.seed(base: refiner.settings.seed, window: window),
                                              strength: refiner.settings.seamStrength, isCancelled: isCancelled)
        try v.assembler.add(window, planes: planes) { canvas.feather($0, band: v.band, mask: v.mask) }
        v.finished = v.band.rect.y + v.assembler.finishedRows
        v.next += 1
        report(.verticalSeams)
        return true
    }

    private func runHorizontalBand() throws -> Bool {
        guard nextHorizontal < horizontal.count else { return false }
        let (band, bandGrid) = horizontal[nextHorizontal]
        guard mainFinished >= band.rect.maxY, vertical.allSatisfy({ $0.finished >= band.rect.maxY }) else { return false }
        var assembler = try TileAssembler(grid: bandGrid, bands: 3)
        let mask = band.feather
        for window in bandGrid.tiles {
            let rect = PixelRect(x: band.rect.x + window.input.x, y: band.rect.y + window.input.y,
                                 width: window.input.width, height: window.input.height)
            let planes = try refiner.refineWindow(canvas.crop(rect), rect: rect, controls: controls, adapters: adapters,
                                                  seed: band.seed(base: refiner.settings.seed, window: window),
                                                  strength: refiner.settings.seamStrength, isCancelled: isCancelled)
            // Regions lent here lie left of the next window, which reads only its own columns.
            try assembler.add(window, planes: planes) { canvas.feather($0, band: band, mask: mask) }
            report(.horizontalSeams)
        }
        nextHorizontal += 1
        return true
    }
}
