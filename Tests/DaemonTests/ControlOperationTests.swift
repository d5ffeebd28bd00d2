import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import Weights
import XCTest

/// `control` through a real daemon: the tiny sd1/SDXL models and the tiny ControlNets of
/// scripts/fixtures/make_controlnet_fixtures.py under `<models>/controlnet/`, in every generation operation, in
/// `models.list`, and every bad entry refused with -32602 naming its member while the daemon keeps serving.
final class ControlOperationTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    private func startDaemon() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny",
                                                   withDestinationPath: Self.fixtures.appendingPathComponent("sd/sd1/diffusers").path)
        try FileManager.default.createSymbolicLink(atPath: models + "/tinyxl",
                                                   withDestinationPath: Self.fixtures.appendingPathComponent("sdxl/base/diffusers").path)
        try FileManager.default.createSymbolicLink(atPath: models + "/controlnet",
                                                   withDestinationPath: Self.fixtures.appendingPathComponent("controlnet/models").path)
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    /// A PNG of the fixtures' "edges" control picture (or any [H, W, 3] tensor key), base64.
    static func png(_ key: String = "control.edges", grey: Bool = false) throws -> JSONValue {
        let refs = try SafeTensorsFile(path: fixtures.appendingPathComponent("controlnet/cases.safetensors").path).tensor(key)
        var bytes = refs.scalars.map { UInt8($0) }
        var bands = 3
        if grey {
            bytes = stride(from: 0, to: bytes.count, by: 3).map { bytes[$0] }
            bands = 1
        }
        return try png(bytes, width: refs.shape[1], height: refs.shape[0], bands: bands)
    }

    static func png(_ bytes: [UInt8], width: Int, height: Int, bands: Int) throws -> JSONValue {
        let image = try VipsImage(bytes: bytes, width: width, height: height, bands: bands)
        return ["base64": .string(Data(try image.encoded(format: .png)).base64EncodedString())]
    }

    /// A white square (the area to repaint) on black, 32×32.
    static func mask() throws -> JSONValue {
        let bytes = (0..<1024).map { i -> UInt8 in (8..<20).contains(i / 32) && (8..<20).contains(i % 32) ? 255 : 0 }
        return try png(bytes, width: 32, height: 32, bands: 1)
    }

    func call(_ client: LineSocketClient, _ id: Int64, _ method: String, _ params: [String: JSONValue],
              timeout: Double = 120) throws -> JSONValue {
        try client.request(id, method, params)
        return try client.collect(id: .integer(id), timeout: timeout).response
    }

    func testEveryGenerationOperationTakesControl() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let edges = try Self.png()
        let picture = try Self.png("init.32x32")
        let base: [String: JSONValue] = ["model": "tiny", "prompt": "a house", "steps": 3, "seed": 5, "width": 32,
                                         "height": 32, "sampler": "euler", "output": ["format": "png"]]
        let plain = try call(client, 1, "generate", base)
        var controlled = base
        controlled["control"] = [["model": "sd1-a", "image": edges, "weight": 1.0, "start": 0.0, "end": 1.0,
                                  "guess_mode": false, "preprocess": "none"],
                                 ["model": "sd1-pool", "image": picture, "weight": 0.5, "end": 0.5]]
        let steered = try call(client, 2, "generate", controlled)
        XCTAssertNil(steered["error"], "\(steered)\n\(daemon.log)")
        let a = plain["result"]?["images"]?.arrayValue?.first?["base64"]
        let b = steered["result"]?["images"]?.arrayValue?.first?["base64"]
        XCTAssertNotNil(b)
        XCTAssertNotEqual(a, b, "the control changes the picture")

        let control: JSONValue = [["model": "sd1-a", "image": edges, "resize_mode": "crop and resize"]]
        var i2i = base
        i2i["image"] = picture
        i2i["strength"] = 0.7
        i2i["control"] = control
        let img2img = try call(client, 3, "img2img", i2i)
        XCTAssertNil(img2img["error"], "\(img2img)")

        var inpaint = base
        inpaint["image"] = picture
        inpaint["mask"] = try Self.mask()
        inpaint["area"] = "masked"
        inpaint["control"] = control
        inpaint["width"] = nil
        inpaint["height"] = nil
        let repainted = try call(client, 4, "inpaint", inpaint)
        XCTAssertNil(repainted["error"], "\(repainted)")

        var outpaint = base
        outpaint["image"] = picture
        outpaint["extend"] = ["right": 8]
        outpaint["control"] = control
        outpaint["width"] = nil
        outpaint["height"] = nil
        let extended = try call(client, 5, "outpaint", outpaint)
        XCTAssertNil(extended["error"], "\(extended)")
        XCTAssertEqual(extended["result"]?["images"]?.arrayValue?.first?["width"]?.intValue, 40, "\(extended)")

        // models.load finds ControlNets too; resident next to the checkpoint, one budget.
        let load = try call(client, 7, "models.load", ["model": "sd1-b"])
        XCTAssertEqual(load["result"]?["kind"], "controlnet", "\(load)")
        let list = try call(client, 6, "models.list", [:])
        let entries = list["result"]?["models"]?.arrayValue ?? []
        let cn = entries.first { $0["kind"] == "controlnet" && $0["name"] == "sd1-a" }
        XCTAssertEqual(cn?["loaded"], .bool(true), "\(entries)")
        XCTAssertEqual(cn?["family"], "sd1")
        XCTAssertEqual(cn?["hint_channels"]?.intValue, 3)
        XCTAssertEqual(cn?["controlnet_variant"], "full")
        XCTAssertEqual(cn?["layout"], "diffusers")
        let grey = entries.first { $0["kind"] == "controlnet" && $0["name"] == "sd1-grey" }
        XCTAssertEqual(grey?["hint_channels"]?.intValue, 1, "\(entries)")
        XCTAssertEqual(entries.first { $0["name"] == "sd1-b" }?["loaded"], .bool(true))
        // Issue #13's variant names (full, mid, small): a shuffle-type model is flagged by global_pool_conditions.
        XCTAssertEqual(entries.first { $0["name"] == "sd1-pool" }?["controlnet_variant"], "full")
        XCTAssertEqual(entries.first { $0["name"] == "sd1-pool" }?["global_pool_conditions"], .bool(true))
        XCTAssertEqual(cn?["global_pool_conditions"], .bool(false))
        XCTAssertEqual(entries.first { $0["kind"] == "controlnet" && $0["name"] == "sdxl-a" }?["family"], "sdxl")
        XCTAssertEqual(entries.first { $0["name"] == "sd1-a-ldm" }?["format"], "safetensors")
        // The tiny SDXL single file has a 40-wide pooled embedding, which real SDXL files (1280) never have: listed
        // with why it cannot be read.
        let xl = entries.first { $0["kind"] == "controlnet" && $0["name"] == "sdxl-a-ldm" }
        XCTAssertTrue(xl?["error"]?.stringValue?.contains("label_emb.0.0 takes 88 inputs") ?? false, "\(entries)")
    }

    /// `preprocess` in a control entry runs the `preprocess` operation's code first: a request with the raw
    /// picture and `preprocess: "canny"` equals one with the operation's output and `preprocess: "none"`.
    func testPreprocessInAControlEntryIsThePreprocessOperation() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let picture = try Self.png("init.32x32")
        let detected = try call(client, 1, "preprocess", ["image": picture, "preprocess": "canny", "low": 50, "high": 150,
                                                          "resolution": 64, "output": ["format": "png"]])
        XCTAssertNil(detected["error"], "\(detected)")
        let edges = try XCTUnwrap(detected["result"]?["image"]?["base64"])
        let base: [String: JSONValue] = ["model": "tiny", "prompt": "a house", "steps": 3, "seed": 5, "width": 32,
                                         "height": 32, "sampler": "euler", "output": ["format": "png"]]
        let direct = try call(client, 2, "generate", base.merging(["control": [["model": "sd1-a", "image": picture,
            "preprocess": "canny", "low": 50, "high": 150, "resolution": 64]]]) { _, n in n })
        let given = try call(client, 3, "generate", base.merging(["control": [["model": "sd1-a", "image": ["base64": edges]]]]) { _, n in n })
        let raw = try call(client, 4, "generate", base.merging(["control": [["model": "sd1-a", "image": picture]]]) { _, n in n })
        XCTAssertNil(direct["error"], "\(direct)\n\(daemon.log)")
        let image = { (r: JSONValue) in r["result"]?["images"]?.arrayValue?.first?["base64"] }
        XCTAssertEqual(image(direct), image(given), "preprocessing in the entry is the preprocess operation")
        XCTAssertNotEqual(image(direct), image(raw), "and it changed the control image")
    }

    func testBadControlEntriesAreRefusedNamingTheEntry() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let edges = try Self.png()
        let base: [String: JSONValue] = ["model": "tiny", "prompt": "a house", "steps": 2, "seed": 5, "width": 32,
                                         "height": 32, "output": ["format": "png"]]
        func refused(_ id: Int64, _ control: JSONValue, model: String? = "tiny", method: String = "generate",
                     extra: [String: JSONValue] = [:], field: String, says text: String,
                     code: Int = RPCErrorCode.invalidParams,
                     file: StaticString = #filePath, line: UInt = #line) throws {
            var params = base.merging(extra) { _, new in new }
            params["model"] = model.map { .string($0) }
            params["control"] = control
            let reply = try call(client, id, method, params)
            XCTAssertEqual(reply.errorCode, code, "\(reply)", file: file, line: line)
            XCTAssertEqual(reply["error"]?["data"]?["field"], .string(field), "\(reply)", file: file, line: line)
            let message = reply["error"]?["message"]?.stringValue ?? ""
            XCTAssertTrue(message.contains(text), "\(message) lacks \(text)", file: file, line: line)
        }
        let good: JSONValue = ["model": "sd1-a", "image": edges]
        try refused(1, [good, ["model": "sd1-a", "image": ["base64": "aGVsbG8gd29ybGQ="]]],
                    field: "control[1].image.base64", says: "control[1].image", code: RPCErrorCode.unsupportedImage)
        try refused(2, [["model": "nope", "image": edges]], field: "control[0].model", says: "sd1-a")
        try refused(3, [["model": "../tiny", "image": edges]], field: "control[0].model", says: "no ControlNet named")
        try refused(4, [["model": "sdxl-a", "image": edges]], field: "control[0].model", says: "is for sdxl models, the checkpoint 'tiny' is sd1")
        try refused(5, [["model": "sd1-a", "image": edges]], model: "tinyxl", field: "control[0].model",
                    says: "is for sd1 models, the checkpoint 'tinyxl' is sdxl")
        try refused(6, [good, ["model": "sd1-b", "image": edges, "start": 0.6, "end": 0.6]],
                    field: "control[1].start", says: "must be below end")
        try refused(7, [["model": "sd1-grey", "image": edges]], field: "control[0].image", says: "1-channel (grey) hints")
        try refused(8, [["model": "sd1-a", "image": edges, "weight": -1]], field: "control[0].weight", says: "control[0].weight")
        try refused(9, [["model": "sd1-a", "image": edges, "preprocess": "canny", "low": 200, "high": 100]],
                    field: "control[0].low", says: "control[0].low")
        try refused(12, [["model": "sd1-a", "image": edges, "threshold": 10]], field: "control[0].threshold",
                    says: "no effect without a preprocessor")
        try refused(10, [good], model: nil, method: "inpaint", extra: ["image": edges, "mask": try Self.mask()],
                    field: "model", says: "control need a model")
        // A grey hint for the grey model works; the daemon kept serving through all of the above.
        let ok = try call(client, 11, "generate", base.merging(["control": [["model": "sd1-grey", "image": try Self.png(grey: true)]]]) { _, n in n })
        XCTAssertNil(ok["error"], "\(ok)\n\(daemon.log)")
    }
}
