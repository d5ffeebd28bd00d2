import Engine
import Foundation
import Imaging
import Models
import PluginAPI
import StrictJSON
import UpscalePlugin
import XCTest

/// A T2I-Adapter in the SD refine: its picture lies in the refined image's frame (stretched, padded like the image,
/// cut with each window), so it changes the result, and one tile redone alone with the same adapters is
/// bit-identical to that tile inside the streamed job. Tiny sd1 model and sd1-full adapter (scripts/fixtures/).
final class RefineT2IAdapterTests: XCTestCase {
    static let adapters = UpscaleFixtures.repoRoot + "/Tests/Fixtures/t2i_adapter"

    func adapter(_ file: String = "sd1-full") throws -> T2IAdapterPicture {
        let adapter = try T2IAdapterFiles.load(path: Self.adapters + "/" + file)
        return T2IAdapterPicture(index: 0, name: file, adapter: adapter, picture: try RefineFixtures.stripes(), weight: 1, factor: 1)
    }

    func settings() -> RefineSettings { RefineFixtures.settings(seamFix: true) }

    func testAdapterSteersEveryWindowAndTilesStayReproducible() throws {
        let model = try RefineTests.model.get()
        let plain = settings()
        var steered = plain
        steered.adapters = [try adapter()]
        let values = (0..<(3 * 52 * 44)).map { (i: Int) -> Float in
            let x = Float(i % 52), y = Float(i / 52 % 44)
            return 0.8 * sin(x * 0.2) * cos(y * 0.15)
        }
        let source = try PlanarRGB(width: 52, height: 44, values: values)
        var captured: [Tile: [Float]] = [:]
        let without = try TileRefiner(model: model, settings: plain).refine(source)
        let refiner = try TileRefiner(model: model, settings: steered)
        let with = try refiner.refine(source, onTile: { captured[$0] = $1 })
        let change = zip(with.values, without.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(change, 0.01, "the adapter changes the refined pixels")

        let size = ImageSize(width: 52, height: 44)
        let adapters = try refiner.adapters(forImageOf: size)
        XCTAssertEqual(adapters.first?.picture.size, ImageSize(width: 56, height: 48), "padded like the image")
        let grid = try refiner.grid(for: size)
        for tile in grid.tiles {
            let alone = try refiner.refineTile(tile, of: try refiner.padded(source), adapters: adapters)
            XCTAssertEqual(alone, captured[tile], "tile \(tile.column),\(tile.row)")
        }
    }

    func testAdapterThatDoesNotFitIsRefusedBeforeAnyTile() throws {
        let model = try RefineTests.model.get()
        var s = settings()
        s.adapters = [try adapter("xl-full")]
        XCTAssertThrowsError(try TileRefiner(model: model, settings: s)) { error in
            guard case EngineError.invalidParameter(let field, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.adapters[0].model")
            XCTAssertTrue(reason.contains("does not fit"), reason)
        }
    }

    /// `refine.adapters` through the upscale plugin: runs and is reported; bad entries are refused naming
    /// `refine.adapters[0]…` before any upscaling.
    func testUpscalePluginTakesRefineAdapters() throws {
        let folder = try RefineFixtures.pluginFolder(links: ["t2i_adapter/lineart": Self.adapters + "/sd1-full",
                                                             "t2i_adapter/xl": Self.adapters + "/xl-full"])
        let dir = folder.dir
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let context = folder.context()
        let photo: JSONValue = ["path": .string(UpscaleFixtures.fixtures + "/photo32.png")]
        func run(_ adapters: JSONValue, out: String) throws -> JSONValue {
            let refine: JSONValue = ["model": "tiny", "prompt": "a cat", "steps": 4, "strength": 0.5, "seed": 7,
                                     "tile": 32, "overlap": 8, "adapters": adapters]
            let params: [String: JSONValue] = ["image": photo, "model": "bicubic", "width": 48, "refine": refine,
                                               "output": ["path": .string(out)]]
            let plugin = UpscalePlugin()
            try SchemaValidator.validate(.object(params), against: plugin.paramsSchema)
            return try plugin.run(params: params, context: context)
        }
        let result = try run([["model": "lineart", "image": photo, "weight": 0.7]], out: dir + "/out.png")
        XCTAssertEqual(result["adapters"]?.arrayValue?.first?["model"], "lineart", "\(result)")
        XCTAssertEqual(result["adapters"]?.arrayValue?.first?["weight"], 0.7)
        let image = try VipsImage.load(path: dir + "/out.png")
        XCTAssertEqual([image.width, image.height], [48, 48])
        func refusedField(_ adapters: JSONValue) -> String? {
            do { _ = try run(adapters, out: dir + "/bad.png") } catch PluginError.invalidParam(let field, _) { return field
            } catch PluginError.unsupportedImage(let field, _) { return field } catch {
                return "\(error)"
            }
            return nil
        }
        XCTAssertEqual(refusedField([["model": "xl", "image": photo]]), "refine.adapters[0].model")
        XCTAssertEqual(refusedField([["model": "nope", "image": photo]]), "refine.adapters[0].model")
        XCTAssertEqual(refusedField([["model": "lineart", "image": ["base64": "bm90IGFuIGltYWdl"]]]), "refine.adapters[0].image.base64")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.png"))
    }
}
