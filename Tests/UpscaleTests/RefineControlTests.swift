import Engine
import Foundation
import Imaging
import PluginAPI
import StrictJSON
import UpscalePlugin
import XCTest

/// A ControlNet in the SD refine: its image lies in the refined image's frame (fitted, padded like the image, cut
/// with each window), so it changes the result, and one tile redone alone with the same controls is bit-identical
/// to that tile inside the streamed job. Tiny sd1 model and ControlNet (scripts/fixtures/make_controlnet_fixtures.py).
final class RefineControlTests: XCTestCase {
    func control() throws -> ControlNetInput {
        let net = try LoadedControlNet.load(name: "sd1-a",
                                            path: UpscaleFixtures.repoRoot + "/Tests/Fixtures/controlnet/models/sd1-a")
        return ControlNetInput(controlNet: net, image: try RefineFixtures.stripes(), weight: 1, field: "control[0]")
    }

    func settings() -> RefineSettings { RefineFixtures.settings(seamFix: true) }

    func testControlSteersEveryWindowAndTilesStayReproducible() throws {
        let model = try RefineTests.model.get()
        let plain = settings()
        var steered = plain
        steered.controls = [try control()]
        // 52 × 44: padded to 56 × 48, 2 × 2 tiles and seam bands.
        let values = (0..<(3 * 52 * 44)).map { (i: Int) -> Float in
            let x = Float(i % 52), y = Float(i / 52 % 44)
            return 0.8 * sin(x * 0.2) * cos(y * 0.15)
        }
        let source = try PlanarRGB(width: 52, height: 44, values: values)
        var captured: [Tile: [Float]] = [:]
        let without = try TileRefiner(model: model, settings: plain).refine(source)
        let refiner = try TileRefiner(model: model, settings: steered)
        let with = try refiner.refine(source, onTile: { captured[$0] = $1 })
        XCTAssertEqual(with.width, 52)
        let change = zip(with.values, without.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(change, 0.05, "the control changes the refined pixels")

        let grid = try refiner.grid(for: ImageSize(width: 52, height: 44))
        let controls = try refiner.controls(forImageOf: ImageSize(width: 52, height: 44))
        XCTAssertEqual(controls.first?.image.size, ImageSize(width: 56, height: 48), "padded like the image")
        for tile in grid.tiles {
            let alone = try refiner.refineTile(tile, of: try refiner.padded(source), controls: controls)
            XCTAssertEqual(alone, captured[tile], "tile \(tile.column),\(tile.row)")
        }
    }

    func testBadControlIsRefusedBeforeAnyTile() throws {
        let model = try RefineTests.model.get()
        var s = settings()
        var bad = try control()
        bad.start = 0.8
        bad.end = 0.2
        s.controls = [bad]
        XCTAssertThrowsError(try TileRefiner(model: model, settings: s)) { error in
            guard case EngineError.invalidParameter(let field, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.control[0].start")
        }
    }
}

extension RefineControlTests {
    /// `refine.control` through the upscale plugin: runs, and a bad entry is refused naming `refine.control[0]…`.
    func testUpscalePluginTakesRefineControl() throws {
        let folder = try RefineFixtures.pluginFolder(links: ["controlnet": UpscaleFixtures.repoRoot + "/Tests/Fixtures/controlnet/models"])
        let dir = folder.dir
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let context = folder.context()
        let photo: JSONValue = ["path": .string(UpscaleFixtures.fixtures + "/photo32.png")]
        func run(_ control: JSONValue, out: String) throws {
            let refine: JSONValue = ["model": "tiny", "prompt": "a cat", "steps": 4, "strength": 0.5, "seed": 7,
                                     "tile": 32, "overlap": 8, "control": control]
            _ = try UpscalePlugin().run(params: ["image": photo, "model": "bicubic", "width": 48, "refine": refine,
                                                 "output": ["path": .string(out)]], context: context)
        }
        try run([["model": "sd1-a", "image": photo]], out: dir + "/out.png")
        let image = try VipsImage.load(path: dir + "/out.png")
        XCTAssertEqual([image.width, image.height], [48, 48])
        XCTAssertThrowsError(try run([["model": "sdxl-a", "image": photo]], out: dir + "/bad.png")) { error in
            guard case PluginError.invalidParam(let field, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.control[0].model")
            XCTAssertTrue(reason.contains("sdxl"), reason)
        }
        XCTAssertThrowsError(try run([["model": "sd1-a", "image": photo, "start": 0.5, "end": 0.4]], out: dir + "/bad.png")) { error in
            guard case PluginError.invalidParam(let field, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.control[0].start")
        }
        XCTAssertThrowsError(try run([["model": "nope", "image": photo]], out: dir + "/bad.png")) { error in
            guard case PluginError.invalidParam(let field, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.control[0].model")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.png"))
    }
}
