import DiffusionProtocol
import Foundation
import StrictJSON
import XCTest

/// LoRAs on the wire: `loras` and `<lora:…>` tags in every generation operation, the `loras` result member,
/// switching back to the plain model without drift, and -32602 naming the entry for each refusal.
final class LoRAOperationTests: XCTestCase {
    static let loraFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/lora/loras").path

    private func startDaemon() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        try FileManager.default.createSymbolicLink(atPath: models + "/loras", withDestinationPath: Self.loraFolder)
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    private let base: [String: JSONValue] = ["model": "tiny", "prompt": "a fox", "steps": 2, "width": 32, "height": 32,
                                             "seed": 3, "output": ["format": "png"]]

    private func image(_ reply: JSONValue) -> JSONValue? {
        reply["result"]?["images"]?.arrayValue?.first?["base64"]
    }

    func testStructuredAndTagFormsCombineReportAndSwitchBackWithoutDrift() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "generate", base)
        let plain = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(plain["result"]?["loras"], "no adapters, no member")

        var tagged = base
        tagged["prompt"] = "a fox <lora:sd1_peft:0.8>"
        tagged["negative_prompt"] = "<lora:sub/sd1_kohya:te=1:unet=0>"
        tagged["loras"] = [["name": "sd1_full", "weight": 0.5]]
        try client.request(2, "generate", tagged)
        let withTags = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertNil(withTags["error"], "\(withTags)\n\(daemon.log)")
        let reports = try XCTUnwrap(withTags["result"]?["loras"]?.arrayValue)
        XCTAssertEqual(reports.map { $0["name"] }, ["sd1_full", "sd1_peft", "sub/sd1_kohya"])
        XCTAssertEqual(reports.map { $0["type"] }, ["full", "locon", "locon"])
        XCTAssertEqual(reports[2]["text_encoder_weight"], 1.0)
        XCTAssertEqual(reports[2]["unet_weight"], 0.0)
        for r in reports {
            XCTAssertEqual(r["matched"], r["total"], "\(r)")
            XCTAssertEqual(r["unmatched"], [])
            XCTAssertNil(r["warning"])
        }
        XCTAssertNotEqual(image(withTags), image(plain))

        // The same set given only structured: the same image (the tags were removed from the text).
        var structured = base
        structured["prompt"] = "a fox "  // the tagged prompt's text (the PNG's parameters chunk quotes it)
        structured["negative_prompt"] = ""
        structured["loras"] = [["name": "sd1_full", "weight": 0.5], ["name": "sd1_peft", "weight": 0.8],
                               ["name": "sub/sd1_kohya", "text_encoder_weight": 1, "unet_weight": 0]]
        try client.request(3, "generate", structured)
        let sameSet = try client.collect(id: .integer(3), timeout: 120).response
        XCTAssertEqual(image(sameSet), image(withTags))

        try client.request(4, "generate", base)
        XCTAssertEqual(image(try client.collect(id: .integer(4), timeout: 120).response), image(plain), "drift after adapters")
    }

    /// A1111's DyLoRA `dyn=`: the tag and the structured member are the same request, reported, and not the
    /// full-rank LoRA; a dyn that is no rank is -32602 naming the entry.
    func testDynTagAndMemberApplyTheFirstRanks() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        var whole = base
        whole["loras"] = [["name": "sub/sd1_kohya"]]
        try client.request(1, "generate", whole)
        let full = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(full["result"]?["loras"]?.arrayValue?.first?["dyn"])
        var tagged = base
        tagged["prompt"] = "a fox <lora:sub/sd1_kohya:1:dyn=1>"
        try client.request(2, "generate", tagged)
        let fromTag = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertNil(fromTag["error"], "\(fromTag)\n\(daemon.log)")
        XCTAssertEqual(fromTag["result"]?["loras"]?.arrayValue?.first?["dyn"], JSONValue(1))
        var structured = base
        structured["prompt"] = "a fox "
        structured["loras"] = [["name": "sub/sd1_kohya", "dyn": 1]]
        try client.request(3, "generate", structured)
        let fromMember = try client.collect(id: .integer(3), timeout: 120).response
        XCTAssertEqual(fromMember["result"]?["loras"]?.arrayValue?.first?["dyn"], JSONValue(1))
        XCTAssertEqual(image(fromMember), image(fromTag))
        XCTAssertNotEqual(image(fromTag), image(full), "dyn=1 drops ranks of the rank-2 and rank-4 modules")

        let refusals: [(JSONValue, String?, String, String)] = [
            ([["name": "sub/sd1_kohya", "dyn": 0]], nil, "loras[0].dyn", ""),
            ([["name": "sub/sd1_kohya", "dyn": -2]], nil, "loras[0].dyn", ""),
            ([["name": "sub/sd1_kohya", "dyn": 2.5]], nil, "loras[0].dyn", ""),
            ([["name": "sub/sd1_kohya", "dyn": "4"]], nil, "loras[0].dyn", ""),
            ([], "x <lora:sub/sd1_kohya:1:dyn=0>", "prompt", "dyn=0 of LoRA \"sub/sd1_kohya\" is not a rank"),
            ([], "x <lora:sub/sd1_kohya:dyn=1.5>", "prompt", "dyn=1.5 of LoRA \"sub/sd1_kohya\" is not a rank"),
        ]
        for (i, (loras, prompt, field, message)) in refusals.enumerated() {
            var params = base
            params["loras"] = loras
            if let prompt { params["prompt"] = .string(prompt) }
            let id = Int64(10 + i)
            try client.request(id, "generate", params)
            let reply = try client.collect(id: .integer(id), timeout: 60).response
            XCTAssertEqual(reply.errorCode, RPCErrorCode.invalidParams, "\(field): \(reply)")
            let text = reply["error"]?["message"]?.stringValue ?? ""
            XCTAssertTrue(text.contains(field), "\(reply)")
            if !message.isEmpty {
                XCTAssertEqual(reply["error"]?["data"]?["field"], .string(field), "\(reply)")
                XCTAssertTrue(text.contains(message), "\(reply)")
            }
        }
    }

    /// A1111's positional `<lora:NAME:TE:UNET:DYN>` is the same request as te=/unet=/dyn=, reported alike; a fourth
    /// argument that is no rank is -32602 naming the LoRA.
    func testPositionalDynTagIsTheNamedForm() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        var named = base
        named["prompt"] = "a fox <lora:sub/sd1_kohya:te=0.9:unet=0.6:dyn=1>"
        try client.request(1, "generate", named)
        let fromNamed = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(fromNamed["error"], "\(fromNamed)\n\(daemon.log)")
        var positional = base
        positional["prompt"] = "a fox <lora:sub/sd1_kohya:0.9:0.6:1>"
        try client.request(2, "generate", positional)
        let fromPositional = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertNil(fromPositional["error"], "\(fromPositional)\n\(daemon.log)")
        let report = fromPositional["result"]?["loras"]?.arrayValue?.first
        XCTAssertEqual(report?["dyn"], JSONValue(1))
        XCTAssertEqual(report?["text_encoder_weight"], .double(0.9))
        XCTAssertEqual(report?["unet_weight"], .double(0.6))
        XCTAssertNotNil(image(fromPositional))
        XCTAssertEqual(image(fromPositional), image(fromNamed))

        for (i, tag) in ["<lora:sub/sd1_kohya:1:1:0>", "<lora:sub/sd1_kohya:1:1:2.5:dyn=1>", "<lora:sub/sd1_kohya:1:1:1:7>"].enumerated() {
            var params = base
            params["negative_prompt"] = .string("blurry " + tag)
            let id = Int64(10 + i)
            try client.request(id, "generate", params)
            let reply = try client.collect(id: .integer(id), timeout: 60).response
            XCTAssertEqual(reply.errorCode, RPCErrorCode.invalidParams, "\(tag): \(reply)")
            XCTAssertEqual(reply["error"]?["data"]?["field"], .string("negative_prompt"), "\(reply)")
            let text = reply["error"]?["message"]?.stringValue ?? ""
            XCTAssertTrue(text.contains("LoRA \"sub/sd1_kohya\""), "\(reply)")
        }
        try client.request(20, "generate", positional)
        XCTAssertEqual(image(try client.collect(id: .integer(20), timeout: 120).response), image(fromNamed),
                       "the daemon serves the next request after the refusals")
    }

    func testImg2ImgInpaintAndOutpaintApplyAndReport() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let picture = daemon.dir.file("in.png")
        var first = base
        first["output"] = ["path": .string(picture)]
        try client.request(1, "generate", first)
        XCTAssertNil(try client.collect(id: .integer(1), timeout: 120).response["error"])
        var params: [String: JSONValue] = ["model": "tiny", "prompt": "a fox <lora:sd1_loha:0.7>", "steps": 2, "seed": 1,
                                           "image": ["path": .string(picture)], "output": ["format": "png"]]
        var id: Int64 = 2
        for method in ["img2img", "inpaint", "outpaint"] {
            var p = params
            if method == "inpaint" { p["mask"] = ["path": .string(picture)] }
            if method == "outpaint" { p["extend"] = ["right": 8] }
            try client.request(id, method, p)
            let reply = try client.collect(id: .integer(id), timeout: 120).response
            XCTAssertNil(reply["error"], "\(method): \(reply)\n\(daemon.log)")
            XCTAssertEqual(reply["result"]?["loras"]?.arrayValue?.map { $0["name"] }, ["sd1_loha"], method)
            id += 1
        }
        // The model-free inpaint and outpaint fills have no networks to patch.
        for method in ["inpaint", "outpaint"] {
            var p: [String: JSONValue] = ["image": ["path": .string(picture)], "loras": [["name": "sd1_loha"]],
                                          "output": ["format": "png"]]
            if method == "inpaint" { p["mask"] = ["path": .string(picture)] } else { p["extend"] = ["right": 8] }
            try client.request(id, method, p)
            let reply = try client.collect(id: .integer(id), timeout: 60).response
            XCTAssertEqual(reply.errorCode, RPCErrorCode.invalidParams, "\(method): \(reply)")
            XCTAssertEqual(reply["error"]?["data"]?["field"], "loras", "\(method): \(reply)")
            id += 1
        }
        params["loras"] = [["name": "missing_one"]]
        try client.request(id, "img2img", params)
        let refused = try client.collect(id: .integer(id), timeout: 60).response
        XCTAssertEqual(refused.errorCode, RPCErrorCode.invalidParams)
        XCTAssertEqual(refused["error"]?["data"]?["field"], "loras[0]", "\(refused)")
    }

    func testModelsListShowsLoRAFiles() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "models.list", [:])
        let reply = try client.collect(id: .integer(1), timeout: 60).response
        XCTAssertNil(reply["error"], "\(reply)")
        let loras = (reply["result"]?["models"]?.arrayValue ?? []).filter { $0["kind"] == "lora" }
        let kohya = try XCTUnwrap(loras.first { $0["name"] == "sub/sdxl_kohya" }, "\(loras)")
        XCTAssertEqual(kohya["family"], "sdxl")
        XCTAssertEqual(kohya["lora_type"], "locon")
        XCTAssertEqual(kohya["format"], "safetensors")
        XCTAssertEqual(kohya["loaded"], false)
        XCTAssertNotNil(kohya["file_bytes"]?.intValue)
        XCTAssertNotNil(loras.first { $0["name"] == "corrupt" }?["error"])
    }

    func testEachRefusalIsInvalidParamsNamingTheEntry() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let cases: [(JSONValue, String?, String, String)] = [
            ([["name": "sd1_full"], ["name": "nope"]], nil, "loras[1]", "not found"),
            ([["name": "../tiny/unet/diffusion_pytorch_model"]], nil, "loras[0]", "not a name inside loras/"),
            ([["name": "sub/sdxl_kohya"]], nil, "loras[0]", "is for sdxl"),
            ([["name": "matches_nothing"]], nil, "loras[0]", "matches no layer"),
            ([["name": "corrupt"]], nil, "loras[0]", "cannot be read"),
            ([["name": "sd1_full", "weight": "strong"]], nil, "loras[0].weight", ""),
            ([], "x <lora:sd1_full:abc>", "prompt", "<lora:sd1_full:abc>: weight \"abc\" is not a number"),
            ([], "x <lora:nope:1>", "prompt", "<lora:nope:1>: LoRA \"nope\" not found"),
        ]
        for (i, (loras, prompt, field, message)) in cases.enumerated() {
            var params = base
            params["loras"] = loras
            if let prompt { params["prompt"] = .string(prompt) }
            let id = Int64(i + 1)
            try client.request(id, "generate", params)
            let reply = try client.collect(id: .integer(id), timeout: 60).response
            XCTAssertEqual(reply.errorCode, RPCErrorCode.invalidParams, "\(field): \(reply)")
            // Schema refusals name the member path their own way; ours name the entry exactly.
            if !message.isEmpty {
                XCTAssertEqual(reply["error"]?["data"]?["field"], .string(field), "\(reply)")
                XCTAssertTrue(reply["error"]?["message"]?.stringValue?.contains(message) ?? false, "\(reply)")
            }
        }
    }
}
