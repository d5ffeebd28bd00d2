import Engine
import Foundation
import Imaging
import Models
import Tensor
import XCTest

/// The streaming tiled pipeline: seams, order independence, cancellation, alpha and 16-bit.
final class TiledUpscaleTests: XCTestCase {
    var dir = ""
    override func setUpWithError() throws { dir = try UpscaleFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func upscaled(_ model: UpscalerModel, input: String, tile: Int, overlap: Int, output: String) throws -> VipsImage {
        let image = try VipsImage.load(path: UpscaleFixtures.fixtures + "/" + input, mode: .sequential)
        let upscaler = try TiledUpscaler(model: model, tile: tile, overlap: overlap)
        try upscaler.upscale(image, to: dir + "/" + output, overwrite: false)
        return try VipsImage.load(path: dir + "/" + output)
    }

    func testTiledCompactStaysAbove45dBAgainstPyTorchUntiled() throws {
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        let result = try upscaled(model, input: "photo64.png", tile: 32, overlap: 8, output: "tiled.png")
        XCTAssertEqual([result.width, result.height, result.bands], [256, 256, 3])
        let reference = interleaved255(try UpscaleFixtures.reference("animevideov3_x4"))
        let db = psnr(try result.bytes().map(Float.init), reference)
        print("tile 32 / overlap 8 (3x3 tiles) vs PyTorch untiled: \(db) dB")
        // Issue 6: tiled output above 45 dB PSNR against the untiled reference (includes 8-bit rounding).
        XCTAssertGreaterThan(db, 45)
    }

    func testTile128Overlap16OnA256PhotoStaysAbove45dB() throws {
        // The tile settings on a larger real crop, against our own untiled network output (which the
        // parity tests tie to PyTorch); a PyTorch reference of this size would be too large to commit.
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        let result = try upscaled(model, input: "photo256.png", tile: 128, overlap: 16, output: "tiled.png")
        let grid = try TiledUpscaler(model: model, tile: 128, overlap: 16).grid(for: ImageSize(width: 256, height: 256))
        XCTAssertEqual(grid.tiles.count, 9)
        let untiled = model.network.forward(try UpscaleFixtures.photo("photo256.png"))
        let db = psnr(try result.bytes().map(Float.init), interleaved255(untiled))
        print("tile 128 / overlap 16 (3x3 tiles) on 256x256 vs untiled: \(db) dB")
        XCTAssertGreaterThan(db, 45)
    }

    func testTileResultDoesNotDependOnItsNeighboursOrOrder() throws {
        // A tile computed alone from a crop equals the same tile inside a whole job, bit for bit: tiles are a
        // pure function of their input pixels.
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        let image = try VipsImage.load(path: UpscaleFixtures.fixtures + "/photo64.png")
        let grid = try TiledUpscaler(model: model, tile: 32, overlap: 8).grid(for: image.size)
        let step = TileUpscaling(network: model.network, inputBands: 3, maxValue: 255)
        let last = grid.tiles[grid.tiles.count - 1]
        let crop = try image.cropped(to: last.input)
        let alone = step.upscale(pixels: try crop.bytes().map(Float.init), width: crop.width, height: crop.height)
        let reader = try RowBandReader(image: image, grid: grid)
        var inJob: [Float] = []
        for t in grid.tiles { let p = try reader.pixels(of: t); if t == last { inJob = step.upscale(pixels: p, width: t.input.width, height: t.input.height) } }
        XCTAssertEqual(alone, inJob)
    }

    func testCancellationLeavesNothingAtTheOutput() throws {
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        let image = try VipsImage.load(path: UpscaleFixtures.fixtures + "/photo64.png", mode: .sequential)
        let upscaler = try TiledUpscaler(model: model, tile: 32, overlap: 8)
        struct Cancelled: Error {}
        var finished = 0
        XCTAssertThrowsError(try upscaler.upscale(image, to: dir + "/out.png", overwrite: false,
                                                  progress: { finished = $0.tile },
                                                  checkCancelled: { if finished == 2 { throw Cancelled() } }))
        XCTAssertEqual(finished, 2)
        // Neither the output nor the temporary strip file is left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }

    func testSixteenBitRGBAKeepsDepthAndAlpha() throws {
        // 16-bit RGBA: colour through the network, alpha bilinear; a flat alpha stays exactly flat.
        let (w, h) = (40, 24)
        var samples = [UInt16](repeating: 0, count: w * h * 4)
        for y in 0..<h {
            for x in 0..<w {
                let i = (y * w + x) * 4
                samples[i] = UInt16(x * 1600); samples[i + 1] = UInt16(y * 2600); samples[i + 2] = 30000; samples[i + 3] = 40000
            }
        }
        let source = try VipsImage(shorts: samples, width: w, height: h, bands: 4)
        try source.write(to: dir + "/in.png", overwrite: false)
        let image = try VipsImage.load(path: dir + "/in.png", mode: .sequential)
        XCTAssertEqual(image.bitDepth, 16)
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        try TiledUpscaler(model: model, tile: 24, overlap: 6).upscale(image, to: dir + "/out.png", overwrite: false)
        let out = try VipsImage.load(path: dir + "/out.png")
        XCTAssertEqual([out.width, out.height, out.bands, out.bitDepth], [160, 96, 4, 16])
        let values = try out.shorts()
        XCTAssertTrue(stride(from: 3, to: values.count, by: 4).allSatisfy { values[$0] == 40000 })
        // Colour keeps the gradient's scale (16-bit, not 8-bit stretched): mean red ≈ mean of the input's red.
        let meanRed = stride(from: 0, to: values.count, by: 4).reduce(0.0) { $0 + Double(values[$1]) } / Double(values.count / 4)
        XCTAssertEqual(meanRed, Double(39 * 1600) / 2, accuracy: 3000)
    }

    func testExactTargetSizeResizesAfterTheNetwork() throws {
        let model = try UpscaleFixtures.model("realesr-animevideov3-x2")
        let image = try VipsImage.load(path: UpscaleFixtures.fixtures + "/photo32.png", mode: .sequential)
        try TiledUpscaler(model: model, tile: 32, overlap: 0).upscale(image, to: dir + "/x2.png", overwrite: false)
        let x2 = try VipsImage.load(path: dir + "/x2.png")
        XCTAssertEqual([x2.width, x2.height], [64, 64])  // declared x2 = x4 network then a resize
        let again = try VipsImage.load(path: UpscaleFixtures.fixtures + "/photo32.png", mode: .sequential)
        try TiledUpscaler(model: model, tile: 32, overlap: 0)
            .upscale(again, size: ImageSize(width: 100, height: 77), to: dir + "/exact.jpg", overwrite: false)
        let exact = try VipsImage.load(path: dir + "/exact.jpg")
        XCTAssertEqual([exact.width, exact.height], [100, 77])
    }

    func testBadTileParametersAreRejected() throws {
        let model = try UpscaleFixtures.model("realesr-animevideov3-x4")
        XCTAssertThrowsError(try TiledUpscaler(model: model, tile: 8, overlap: 0))
        XCTAssertThrowsError(try TiledUpscaler(model: model, tile: 64, overlap: 40))
    }
}
