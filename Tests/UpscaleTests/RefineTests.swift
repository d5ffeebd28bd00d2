import DiffusionProtocol
import Engine
import Foundation
import Imaging
import Sampling
import PluginAPI
import StrictJSON
import Tensor
import UpscalePlugin
import XCTest

/// SD refine (`TileRefiner`) on the tiny SD 1.x fixture model (Tests/Fixtures/sd/sd1/diffusers, made by
/// scripts/fixtures/make_sd_fixtures.py): tiny images and few steps, so the properties are exact, not visual.
final class RefineTests: XCTestCase {
    static let model: Result<LoadedModel, Error> = Result {
        let path = UpscaleFixtures.repoRoot + "/Tests/Fixtures/sd/sd1/diffusers"
        return try LoadedModel.load(name: "sd1", path: path)
    }

    func settings(tile: Int = 32, overlap: Int = 8, seamFix: Bool = false) -> RefineSettings {
        RefineFixtures.settings(tile: tile, overlap: overlap, seamFix: seamFix)
    }

    /// A smooth synthetic RGB image in [-1, 1].
    func image(width: Int, height: Int) throws -> PlanarRGB {
        var values = [Float](repeating: 0, count: 3 * width * height)
        for c in 0 ..< 3 {
            for y in 0 ..< height {
                for x in 0 ..< width {
                    let v = sin(Float(x) * 0.2 + Float(c)) * cos(Float(y) * 0.15 - Float(c) * 0.5)
                    values[(c * height + y) * width + x] = 0.8 * v
                }
            }
        }
        return try PlanarRGB(width: width, height: height, values: values)
    }

    func testSeedDerivationIsTheDocumentedChainAndSeparatesCoordinatesAndPasses() {
        // The documented formula, spelled out independently of the implementation.
        func mix(_ v: UInt64) -> UInt64 { var g = SplitMix64(seed: v); return g.next() }
        let expected = mix(mix(mix(mix(1234) ^ 0) ^ 3) ^ 5)
        XCTAssertEqual(RefineSeed.derive(base: 1234, column: 3, row: 5), expected)
        XCTAssertEqual(RefineSeed.derive(base: 1234, column: 3, row: 5), RefineSeed.derive(base: 1234, column: 3, row: 5))
        let variants: [UInt64] = [
            RefineSeed.derive(base: 1234, column: 3, row: 5),
            RefineSeed.derive(base: 1234, column: 5, row: 3),
            RefineSeed.derive(base: 1235, column: 3, row: 5),
            RefineSeed.derive(base: 1234, pass: .verticalSeams, column: 3, row: 5),
            RefineSeed.derive(base: 1234, pass: .horizontalSeams, column: 3, row: 5),
        ]
        XCTAssertEqual(Set(variants).count, variants.count, "every coordinate, the base and the pass change the seed")
    }

    /// The img2img a one-tile refine of `source` runs, written out independently of `TileRefiner.request`.
    func singleTileRequest(_ s: RefineSettings, source: PlanarRGB) -> GenerationRequest {
        var request = GenerationRequest(prompt: s.prompt)
        request.negativePrompt = s.negativePrompt
        request.sampler = s.sampler
        request.steps = s.steps
        request.cfgScale = s.cfgScale
        request.seed = RefineSeed.derive(base: s.seed, pass: .tiles, column: 0, row: 0)
        request.width = source.width
        request.height = source.height
        request.initImage = Tensor(shape: [1, 3, source.height, source.width], values: source.values)
        request.strength = s.strength
        return request
    }

    func testSingleTileRefineIsThePipelineRunWithTheDerivedSeed() throws {
        let model = try Self.model.get()
        let s = settings(tile: 32)
        let source = try image(width: 32, height: 32)
        let refined = try TileRefiner(model: model, settings: s).refine(source)

        let direct = try StableDiffusionPipeline(model: model).run(singleTileRequest(s, source: source))
        // One tile has weight exactly 1 everywhere, so blending must not change a bit (tolerance: none).
        XCTAssertEqual(refined.values, direct.decoded.scalars)
        XCTAssertNotEqual(refined.values, source.values, "the pipeline did run")
    }

    /// SDXL in the refine: each tile is an SDXL img2img with the refine's `prompt_2` and micro-conditioning.
    func testSDXLTileRefineCarriesPrompt2AndMicroConditioning() throws {
        let model = try LoadedModel.load(name: "xl", path: UpscaleFixtures.repoRoot + "/Tests/Fixtures/sdxl/base/diffusers")
        var s = settings(tile: 32)
        s.prompt2 = "an oil painting"
        s.micro = MicroConditioning(originalSize: ImageSize(width: 1024, height: 768), targetSize: ImageSize(width: 640, height: 512),
                                    cropsCoordsTopLeft: CropCoordinates(top: 16, left: 8))
        let source = try image(width: 32, height: 32)
        let refined = try TileRefiner(model: model, settings: s).refine(source)

        var request = singleTileRequest(s, source: source)
        request.prompt2 = s.prompt2
        request.micro = s.micro
        let direct = try StableDiffusionPipeline(model: model).run(request)
        XCTAssertEqual(refined.values, direct.decoded.scalars)

        var plain = s
        plain.prompt2 = nil
        plain.micro = MicroConditioning()
        let withoutMembers = try TileRefiner(model: model, settings: plain).refine(source)
        XCTAssertNotEqual(withoutMembers.values, refined.values, "prompt_2 and the micro-conditioning reach the tiles")
    }

    func testRedoingOneTileAloneGivesIdenticalPixels() throws {
        let model = try Self.model.get()
        let s = settings(tile: 32, overlap: 8)
        let source = try image(width: 56, height: 56)   // 2 × 2 tiles at x, y ∈ {0, 24}
        var captured: [Tile: [Float]] = [:]
        let full = try TileRefiner(model: model, settings: s).refine(source, onTile: { captured[$0] = $1 })

        let fresh = try TileRefiner(model: model, settings: s)
        let grid = try fresh.grid(for: ImageSize(width: 56, height: 56))
        XCTAssertEqual([grid.columns, grid.rows], [2, 2])
        let tile = grid.tile(column: 1, row: 1)
        let alone = try fresh.refineTile(tile, of: try fresh.padded(source))
        XCTAssertEqual(alone, captured[tile], "bit-identical to the same tile inside the full job")

        // Where the tile's blend weight is exactly 1, the output is exactly the tile's pixels.
        let weights = grid.weights(for: tile)
        var checked = 0
        for y in 0 ..< tile.input.height {
            for x in 0 ..< tile.input.width where weights[y * tile.input.width + x] == 1 {
                for c in 0 ..< 3 {
                    XCTAssertEqual(full.values[(c * 56 + tile.input.y + y) * 56 + tile.input.x + x],
                                   alone[(c * 32 + y) * 32 + x])
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 24 * 24, "the tile's own 24×24 corner is not shared with any neighbour")
    }

    func testOutputSizeIsExactWithPaddingAndSeamFix() throws {
        let model = try Self.model.get()
        let source = try image(width: 45, height: 37)   // not multiples of 8: padded to 48 × 40, then cropped
        var reports: [RefineProgress] = []
        let refiner = try TileRefiner(model: model, settings: settings(tile: 32, overlap: 8, seamFix: true))
        let out = try refiner.refine(source, progress: { reports.append($0) })
        XCTAssertEqual([out.width, out.height], [45, 37])
        XCTAssertEqual(out.values.count, 3 * 45 * 37)
        XCTAssertTrue(out.values.allSatisfy(\.isFinite))
        // 2 × 2 tiles, then one vertical and one horizontal band (one 32-wide window across, two along each).
        XCTAssertEqual(reports.map(\.pass), [.tiles, .tiles, .tiles, .tiles,
                                             .verticalSeams, .verticalSeams, .horizontalSeams, .horizontalSeams])
        XCTAssertEqual(reports.last, RefineProgress(window: 8, windows: 8, pass: .horizontalSeams))
        // The seam fix only touches the bands: far from both seams the main pass's pixels stay.
        let plain = try TileRefiner(model: model, settings: settings(tile: 32, overlap: 8)).refine(source)
        XCTAssertEqual(out.values[0], plain.values[0], "pixel (0, 0) is outside every band")
        XCTAssertNotEqual(out.values, plain.values, "the bands changed something")
    }

    func testStrengthThatRunsNoStepIsRefusedBeforeAnyTile() throws {
        let model = try Self.model.get()
        var s = settings()
        s.strength = 0
        XCTAssertThrowsError(try TileRefiner(model: model, settings: s)) { error in
            XCTAssertEqual(error as? EngineError, .invalidParameter(field: "refine.strength", reason: "must be in (0, 1]"))
        }
        s.strength = 0.2   // int(4 * 0.2) = 0 steps
        XCTAssertThrowsError(try TileRefiner(model: model, settings: s)) { error in
            XCTAssertEqual(error as? EngineError,
                           .invalidParameter(field: "refine.strength", reason: "0.2 of 4 steps runs no step; raise strength or steps"))
        }
        s.strength = 0.5
        s.tile = 36
        XCTAssertThrowsError(try TileRefiner(model: model, settings: s)) { error in
            XCTAssertEqual(error as? EngineError,
                           .invalidParameter(field: "refine.tile", reason: "must be a multiple of 8 between 8 and 2048, got 36"))
        }
    }

    func testUpscalePluginRefinesAfterTheResizeToTheExactSize() throws {
        let folder = try RefineFixtures.pluginFolder()
        let dir = folder.dir
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let box = UpdateBox()
        let context = folder.context(progress: { box.append($0) })
        let out = dir + "/out.png"
        let refine: JSONValue = ["model": "tiny", "prompt": "a cat", "steps": 4, "strength": 0.5, "seed": 7,
                                 "tile": 32, "overlap": 8, "seam_fix": true]
        let result = try UpscalePlugin().run(params: [
            "image": ["path": .string(UpscaleFixtures.fixtures + "/photo32.png")], "model": "bicubic", "width": 60,
            "refine": refine, "output": ["path": .string(out)],
        ], context: context)
        XCTAssertNil(result["ignored"], "nothing SDXL-only was sent")
        let image = try VipsImage.load(path: out)
        XCTAssertEqual([image.width, image.height, image.bands], [60, 60, 3])
        // 60 pads to 64: 3 × 3 tiles (starts 0, 16, 32), then 2 + 2 seam bands of 3 windows each = 21 windows.
        XCTAssertTrue(box.all.contains { $0.tile == 21 && $0.tiles == 21 }, "\(box.all.compactMap(\.tiles))")

        // SDXL-only refine members with an SD1 model: accepted, listed as ignored.
        var withSDXL = refine.objectValue ?? [:]
        withSDXL["seam_fix"] = false
        withSDXL["prompt_2"] = "oil"
        withSDXL["original_size"] = ["width": 1024, "height": 1024]
        let ignoring = try UpscalePlugin().run(params: [
            "image": ["path": .string(UpscaleFixtures.fixtures + "/photo32.png")], "model": "bicubic", "width": 60,
            "refine": .object(withSDXL), "output": ["path": .string(dir + "/sdxl.png")],
        ], context: context)
        XCTAssertEqual(ignoring["ignored"], ["refine.prompt_2", "refine.original_size"])

        var bad = refine.objectValue ?? [:]
        bad["strength"] = 0
        XCTAssertThrowsError(try UpscalePlugin().run(params: [
            "image": ["path": .string(UpscaleFixtures.fixtures + "/photo32.png")], "model": "bicubic", "width": 60,
            "refine": .object(bad), "output": ["path": .string(dir + "/bad.png")],
        ], context: context)) { error in
            XCTAssertEqual(error as? PluginError, .invalidParam(field: "refine.strength", reason: "must be in (0, 1]"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.png"))
    }
}
