import Engine
import Foundation
import PluginAPI
import StrictJSON
import UpscalePlugin
import XCTest

/// The SD upscale's refine takes LoRAs like the generation operations: `refine.loras` and tags in
/// `refine.prompt`, reported in the result, refused naming `refine.loras[i]`.
final class RefineLoRATests: XCTestCase {
    func testRefineAppliesAndReportsLoRAs() throws {
        let folder = try RefineFixtures.pluginFolder(links: ["loras": UpscaleFixtures.repoRoot + "/Tests/Fixtures/lora/loras"])
        let dir = folder.dir
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let context = folder.context()
        func run(_ refine: JSONValue, _ name: String) throws -> JSONValue {
            try UpscalePlugin().run(params: [
                "image": ["path": .string(UpscaleFixtures.fixtures + "/photo32.png")], "model": "bicubic", "width": 40,
                "refine": refine, "output": ["path": .string(dir + "/\(name).png")],
            ], context: context)
        }
        let plain: [String: JSONValue] = ["model": "tiny", "prompt": "a cat", "steps": 2, "strength": 0.5, "seed": 7, "tile": 32, "overlap": 8]
        let none = try run(.object(plain), "plain")
        XCTAssertNil(none["loras"])
        var adapted = plain
        adapted["prompt"] = "a cat <lora:sd1_loha:0.7>"
        adapted["loras"] = [["name": "sd1_full", "unet_weight": 0.5]]
        let result = try run(.object(adapted), "adapted")
        XCTAssertEqual(result["loras"]?.arrayValue?.map { $0["name"] }, ["sd1_full", "sd1_loha"])
        XCTAssertEqual(result["loras"]?.arrayValue?.first?["unet_weight"], 0.5)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/plain.png")),
                          try Data(contentsOf: URL(fileURLWithPath: dir + "/adapted.png")))

        adapted["loras"] = [["name": "absent"]]
        XCTAssertThrowsError(try run(.object(adapted), "bad")) { error in
            guard case let .invalidParam(field, reason)? = error as? PluginError else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "refine.loras[0]")
            XCTAssertTrue(reason.contains("not found"), reason)
        }
    }
}
