import Engine
import Foundation
import Imaging
import PluginAPI
import StrictJSON
import UpscalePlugin
import XCTest

/// The upscale refine takes embeddings and hypernetworks like the generation operations: tags removed from
/// `refine.prompt`, everything checked before any upscaling, errors naming `refine.<member>`, the result reporting
/// what was applied. (Per-tile parity with diffusers is the generation tests' business: a tile is an img2img run.)
final class RefineAdapterTests: XCTestCase {
    func testRefineAppliesAndReportsAdapters() throws {
        let folder = try RefineFixtures.pluginFolder(links: Dictionary(uniqueKeysWithValues: ["embeddings", "hypernetworks"].map {
            ($0, UpscaleFixtures.repoRoot + "/Tests/Fixtures/embeddings/models/\($0)")
        }))
        let dir = folder.dir
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let context = folder.context()
        func run(_ refine: [String: JSONValue], _ name: String) throws -> (JSONValue, [Float]) {
            var settings: [String: JSONValue] = ["model": "tiny", "steps": 2, "strength": 0.5, "seed": 7, "tile": 32, "overlap": 8]
            for (k, v) in refine { settings[k] = v }
            let out = dir + "/\(name).png"
            let result = try UpscalePlugin().run(params: [
                "image": ["path": .string(UpscaleFixtures.fixtures + "/photo32.png")], "model": "bicubic", "width": 32,
                "refine": .object(settings), "output": ["path": .string(out)],
            ], context: context)
            return (result, try VipsImage.load(path: out).toTensor().scalars)
        }
        let (plain, plainPixels) = try run(["prompt": "fluff cat"], "plain")
        XCTAssertNil(plain["embeddings"])
        let (adapted, adaptedPixels) = try run(["prompt": "fluffstyle cat <hypernet:legacy:0.7>", "negative_prompt": "badhands"], "adapted")
        XCTAssertEqual(adapted["embeddings"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }, ["fluffstyle", "badhands"])
        XCTAssertEqual(adapted["hypernetworks"]?.arrayValue?.first?["name"], "legacy")
        XCTAssertEqual(adapted["hypernetworks"]?.arrayValue?.first?["weight"], 0.7)
        XCTAssertNotEqual(adaptedPixels, plainPixels)
        // The tag itself is not text: the same prompt with the hypernetwork sent structured is the same image.
        let (structured, structuredPixels) = try run(["prompt": "fluffstyle cat ", "negative_prompt": "badhands",
                                                      "hypernetworks": [["name": "legacy", "weight": 0.7]]], "structured")
        XCTAssertEqual(structured["hypernetworks"], adapted["hypernetworks"])
        XCTAssertEqual(structuredPixels, adaptedPixels)

        XCTAssertThrowsError(try run(["prompt": "widevec"], "bad1")) { error in
            guard case PluginError.invalidParam(let field, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.prompt")
            XCTAssertTrue(reason.contains("widevec"), reason)
        }
        XCTAssertThrowsError(try run(["prompt": "x", "hypernetworks": [["name": "nomatch"]]], "bad2")) { error in
            guard case PluginError.invalidParam(let field, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.hypernetworks[0]")
            XCTAssertTrue(reason.contains("nomatch"), reason)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad1.png"))
    }
}
