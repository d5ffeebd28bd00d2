import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// `<lora:…>` tags in SDXL's `prompt_2` / `negative_prompt_2`: applied on an SDXL model, combined with `loras`
/// and the first prompts' tags in one order (structured, prompt, negative_prompt, prompt_2, negative_prompt_2),
/// each occurrence of an adapter named twice applied; on an SD1 model those members are ignored with their tags.
final class LoRASecondPromptTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    private func startDaemon() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        let fm = FileManager.default
        try fm.createDirectory(atPath: models, withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: Self.fixtures.appendingPathComponent("sd/sd1/diffusers").path)
        try fm.createSymbolicLink(atPath: models + "/tinyxl", withDestinationPath: Self.fixtures.appendingPathComponent("sdxl/base/diffusers").path)
        try fm.createSymbolicLink(atPath: models + "/loras", withDestinationPath: Self.fixtures.appendingPathComponent("lora/loras").path)
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    private let base: [String: JSONValue] = ["model": "tinyxl", "prompt": "a fox", "negative_prompt": "blurry", "steps": 2,
                                             "width": 32, "height": 32, "seed": 3, "output": ["format": "png"]]

    private func image(_ reply: JSONValue) -> JSONValue? { reply["result"]?["images"]?.arrayValue?.first?["base64"] }

    func testSecondPromptTagsApplyOnSDXLInRequestOrder() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "generate", base)
        let plain = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(plain["error"], "\(plain)\n\(daemon.log)")

        var tagged = base
        tagged["loras"] = [["name": "sdxl_full", "weight": 0.5]]
        tagged["prompt_2"] = "a fox <lora:sub/sdxl_kohya:te=0.5:unet=0.7>"
        tagged["negative_prompt_2"] = "<lora:sdxl_loha:0.9> blurry"
        try client.request(2, "generate", tagged)
        let withTags = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertNil(withTags["error"], "\(withTags)\n\(daemon.log)")
        let reports = try XCTUnwrap(withTags["result"]?["loras"]?.arrayValue, "\(withTags)")
        XCTAssertEqual(reports.map { $0["name"] }, ["sdxl_full", "sub/sdxl_kohya", "sdxl_loha"])
        XCTAssertEqual(reports[1]["text_encoder_weight"], 0.5)
        XCTAssertEqual(reports[1]["unet_weight"], 0.7)
        XCTAssertEqual(reports[2]["weight"], 0.9)
        for r in reports { XCTAssertEqual(r["matched"], r["total"], "\(r)") }
        XCTAssertNil(withTags["result"]?["ignored_tags"], "applied tags are not ignored: \(withTags)")
        XCTAssertNotEqual(image(withTags), image(plain))

        // The same set as structured entries and the tag-free texts: the same image.
        var structured = base
        structured["loras"] = [["name": "sdxl_full", "weight": 0.5],
                               ["name": "sub/sdxl_kohya", "text_encoder_weight": 0.5, "unet_weight": 0.7],
                               ["name": "sdxl_loha", "weight": 0.9]]
        structured["prompt_2"] = "a fox "
        structured["negative_prompt_2"] = " blurry"
        try client.request(3, "generate", structured)
        let same = try client.collect(id: .integer(3), timeout: 120).response
        XCTAssertNil(same["error"], "\(same)")
        XCTAssertEqual(image(same), image(withTags))

        // An adapter named twice is applied twice, in order, each with its own weights.
        var twice = base
        twice["prompt"] = "a fox <lora:sdxl_full:0.25>"
        twice["prompt_2"] = "a fox <lora:sdxl_full:0.25>"
        try client.request(4, "generate", twice)
        let doubled = try client.collect(id: .integer(4), timeout: 120).response
        let twiceReports = try XCTUnwrap(doubled["result"]?["loras"]?.arrayValue, "\(doubled)")
        XCTAssertEqual(twiceReports.map { $0["name"] }, ["sdxl_full", "sdxl_full"])
        XCTAssertEqual(twiceReports.map { $0["weight"] }, [0.25, 0.25])
        var once = base
        once["prompt"] = "a fox <lora:sdxl_full:0.25>"
        try client.request(5, "generate", once)
        let single = try client.collect(id: .integer(5), timeout: 120).response
        XCTAssertEqual(single["result"]?["loras"]?.arrayValue?.count, 1)
        XCTAssertNotEqual(image(doubled), image(single), "the second occurrence applied")

        // A bad tag in prompt_2 names prompt_2; the daemon serves the next request.
        var bad = base
        bad["prompt_2"] = "x <lora:sdxl_full:lots>"
        try client.request(6, "generate", bad)
        let refused = try client.collect(id: .integer(6), timeout: 60).response
        XCTAssertEqual(refused.errorCode, RPCErrorCode.invalidParams, "\(refused)")
        XCTAssertEqual(refused["error"]?["data"]?["field"], "prompt_2", "\(refused)")
        bad["prompt_2"] = "x <lora:sd1_full:1>"
        try client.request(7, "generate", bad)
        let wrongFamily = try client.collect(id: .integer(7), timeout: 60).response
        XCTAssertEqual(wrongFamily.errorCode, RPCErrorCode.invalidParams, "\(wrongFamily)")
        XCTAssertEqual(wrongFamily["error"]?["data"]?["field"], "prompt_2", "\(wrongFamily)")

        try client.request(8, "generate", base)
        XCTAssertEqual(image(try client.collect(id: .integer(8), timeout: 120).response), image(plain), "drift after adapters")
    }

    func testSecondPromptTagsAreIgnoredWhereTheModelIgnoresSecondPrompts() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        var params = base
        params["model"] = "tiny"
        params["prompt_2"] = "<lora:sd1_full:1> fox"
        params["negative_prompt_2"] = "<lora:sd1_peft:1>"
        try client.request(1, "generate", params)
        let reply = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)")
        XCTAssertNil(reply["result"]?["loras"], "\(reply)")
        XCTAssertEqual(reply["result"]?["ignored_tags"], ["<lora:sd1_full:1>", "<lora:sd1_peft:1>"], "\(reply)")
    }
}
