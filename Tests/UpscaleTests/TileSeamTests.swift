import Engine
import Foundation
import Imaging
import Models
import Tensor
import XCTest

/// Tiles must not show: with its default context (`tile_pad`, from the network's receptive field) a tiled upscale
/// stays within 45 dB PSNR of the untiled network at every tile size from 64 up, on the real Real-ESRGAN
/// networks — edges and corners of the image included, where a tile border meets the image border.
final class TileSeamTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try UpscaleFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// PSNR and worst sample difference of the tiled result against the untiled network on a crop of photo256.
    func compare(_ model: UpscalerModel, crop: PixelRect, tiles: [(tile: Int, overlap: Int)]) throws -> [(Double, Float)] {
        let source = try VipsImage.load(path: UpscaleFixtures.fixtures + "/photo256.png").cropped(to: crop)
        try source.write(to: dir + "/in.png", overwrite: true)
        let untiled = interleaved255(model.network.forward(try UpscaleFixtures.photo(dir + "/in.png", absolute: true)))
        return try tiles.map { t in
            let upscaler = try TiledUpscaler(model: model, tile: t.tile, overlap: t.overlap)
            XCTAssertGreaterThan(try upscaler.grid(for: crop.size).tiles.count, 1, "tile \(t.tile) must split the image")
            let out = dir + "/tiled-\(t.tile).png"
            try upscaler.upscale(try VipsImage.load(path: dir + "/in.png", mode: .sequential), to: out, overwrite: true)
            let tiled = try VipsImage.load(path: out).bytes().map(Float.init)
            let worst = zip(tiled, untiled).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            return (psnr(tiled, untiled), worst)
        }
    }

    func testRRDBNetTilesStayWithin45dBOfUntiledAtEveryTileSize() throws {
        let model = try UpscaleFixtures.model("realesrgan-x4plus")
        XCTAssertEqual(TiledUpscaler.defaultPad(for: model.network), TiledUpscaler.padLimit)
        // 100×90: tile 64 gives 2×2 tiles with an uneven spread, tile 80 tiles whose borders fall near the edges.
        let results = try compare(model, crop: PixelRect(x: 31, y: 77, width: 100, height: 90),
                                  tiles: [(64, 16), (80, 16)])
        for ((db, worst), tile) in zip(results, [64, 80]) {
            print("realesrgan-x4plus tile \(tile): \(db) dB, worst \(worst)/255")
            XCTAssertGreaterThan(db, 45, "tile \(tile)")
            XCTAssertLessThan(worst, 16, "tile \(tile): no single pixel far off")
        }
        // Without the context the same tiles show (the 43.5 dB at tile 64).
        let bare = try TiledUpscaler(model: model, tile: 64, overlap: 16, pad: 0)
        try bare.upscale(try VipsImage.load(path: dir + "/in.png", mode: .sequential), to: dir + "/bare.png", overwrite: true)
        let untiled = interleaved255(model.network.forward(try UpscaleFixtures.photo(dir + "/in.png", absolute: true)))
        XCTAssertLessThan(psnr(try VipsImage.load(path: dir + "/bare.png").bytes().map(Float.init), untiled), results[0].0)
    }

    func testCompactTilesEqualUntiledWithinRounding() throws {
        // SRVGGNetCompact's receptive radius (its conv count) is under the pad limit: its tiles see all they need.
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        XCTAssertEqual(TiledUpscaler.defaultPad(for: model.network), model.network.receptiveRadius)
        let results = try compare(model, crop: PixelRect(x: 0, y: 0, width: 256, height: 200),
                                  tiles: [(64, 16), (96, 8), (128, 16), (192, 16)])
        for ((db, worst), tile) in zip(results, [64, 96, 128, 192]) {
            print("realesr-animevideov3 tile \(tile): \(db) dB, worst \(worst)/255")
            XCTAssertGreaterThan(db, 45, "tile \(tile)")
            XCTAssertLessThanOrEqual(worst, 2, "tile \(tile): float rounding only")
        }
    }
}

extension TileSeamTests {
    func testTilePadOutOfRangeIsRefusedNamingIt() throws {
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        for pad in [-1, TiledUpscaler.maxPad + 1] {
            XCTAssertThrowsError(try TiledUpscaler(model: model, tile: 64, overlap: 16, pad: pad)) { error in
                guard case let UpscaleError.invalidParameter(field, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(field, "tile_pad")
            }
        }
        // The largest accepted pad is taken as given (clipped to the image only when the tiles are read).
        XCTAssertEqual(try TiledUpscaler(model: model, tile: 64, overlap: 16, pad: TiledUpscaler.maxPad).pad, TiledUpscaler.maxPad)
    }
}
