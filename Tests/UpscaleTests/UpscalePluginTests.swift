import DiffusionProtocol
import Engine
import Foundation
import Imaging
import PluginAPI
import StrictJSON
import UpscalePlugin
import XCTest

/// The `upscale` operation as the daemon calls it (params already schema-valid), with the real ncnn models.
final class UpscalePluginTests: XCTestCase {
    var dir = ""
    var updates: [ProgressUpdate] = []
    override func setUpWithError() throws { dir = try UpscaleFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func context(cancel: CancellationToken = CancellationToken()) -> JobContext {
        let box = UpdateBox()
        self.box = box
        return JobContext(requestID: .integer(1), method: "upscale", pathPolicy: PathPolicy(),
                          modelsDirectory: UpscaleFixtures.models, cancellation: cancel,
                          progressSink: { box.append($0) })
    }
    var box = UpdateBox()

    func photo(_ name: String) -> JSONValue { ["path": .string(UpscaleFixtures.fixtures + "/" + name)] }

    func testUpscalesToAFileWithTileProgress() throws {
        _ = try UpscaleFixtures.modelPath("realesr-animevideov3-x4")
        let out = dir + "/out.png"
        let result = try UpscalePlugin().run(params: [
            "image": photo("photo64.png"), "model": "realesr-animevideov3", "scale": 2,
            "tile": 32, "overlap": 8, "output": ["path": .string(out)],
        ], context: context())
        let image = try VipsImage.load(path: out)
        XCTAssertEqual([image.width, image.height, image.bands], [128, 128, 3])
        XCTAssertEqual(result.objectValue?["tiles"], 9)
        let tiles = box.all.compactMap { $0.tile }
        XCTAssertEqual(tiles.last, 9)
        XCTAssertTrue(box.all.contains { $0.tiles == 9 })
    }

    func testKernelResizeNeedsNoNetwork() throws {
        let result = try UpscalePlugin().run(params: [
            "image": photo("photo32.png"), "model": "bicubic", "width": 100, "output": ["format": "png"],
        ], context: context())
        let image = try XCTUnwrap(result.objectValue?["image"]?.objectValue)
        XCTAssertEqual(image["width"], 100)
        XCTAssertEqual(image["height"], 100)
    }

    func testUnknownModelIsAnInvalidParam() {
        XCTAssertThrowsError(try UpscalePlugin().run(params: ["image": photo("photo32.png"), "model": "nope"],
                                                     context: context())) { error in
            guard case PluginError.invalidParam(let field, _)? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "model")
        }
        XCTAssertThrowsError(try UpscalePlugin().run(params: ["image": photo("photo32.png"), "model": "../etc/passwd"],
                                                     context: context()))
    }

    func testCancelledJobLeavesNoFile() throws {
        _ = try UpscaleFixtures.modelPath("realesr-animevideov3-x4")
        let token = CancellationToken()
        token.cancel(reason: "test")
        XCTAssertThrowsError(try UpscalePlugin().run(params: [
            "image": photo("photo64.png"), "model": "realesr-animevideov3", "tile": 32,
            "output": ["path": .string(dir + "/out.tif")],
        ], context: context(cancel: token)))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
}

final class UpdateBox: @unchecked Sendable {
    private let lock = NSLock()
    private var updates: [ProgressUpdate] = []
    func append(_ u: ProgressUpdate) { lock.lock(); updates.append(u); lock.unlock() }
    var all: [ProgressUpdate] { lock.lock(); defer { lock.unlock() }; return updates }
}
