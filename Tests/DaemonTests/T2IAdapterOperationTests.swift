import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// T2I-Adapters through the socket: models under t2i_adapter/ (a diffusers folder, a subfolder's TencentARC
/// .pth, a grey sketch adapter), `adapters` in generate equal to diffusers' StableDiffusionAdapterPipeline
/// (Tests/Fixtures/t2i_adapter/ref-sd1_full_euler.png) within 1/255, models.list, and the refusals.
final class T2IAdapterOperationTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    func startDaemon() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        let adapters = models + "/t2i_adapter"
        try FileManager.default.createDirectory(atPath: adapters + "/more", withIntermediateDirectories: true)
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        try fm.createSymbolicLink(atPath: models + "/xl", withDestinationPath: Self.fixtures + "/sdxl/base/diffusers")
        try fm.createSymbolicLink(atPath: adapters + "/lineart", withDestinationPath: Self.fixtures + "/t2i_adapter/sd1-full")
        try fm.createSymbolicLink(atPath: adapters + "/more/light.pth", withDestinationPath: Self.fixtures + "/t2i_adapter/sd1-light.pth")
        try fm.createSymbolicLink(atPath: adapters + "/sketch.safetensors", withDestinationPath: Self.fixtures + "/t2i_adapter/sd1-sketch.safetensors")
        try fm.createSymbolicLink(atPath: adapters + "/xl-canny", withDestinationPath: Self.fixtures + "/t2i_adapter/xl-full")
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    func testGenerateWithAnAdapterEqualsDiffusers() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let out = daemon.dir.file("fox.png")
        try client.request(1, "generate", [
            "model": "tiny", "prompt": "a red fox sitting in the snow", "negative_prompt": "blurry", "width": 32, "height": 32,
            "steps": 8, "cfg_scale": 7.5, "seed": 61, "sampler": "euler",
            "adapters": [["model": "lineart", "image": ["path": .string(Self.fixtures + "/t2i_adapter/control.png")]]],
            "output": ["path": .string(out)],
        ])
        let reply = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)\n\(daemon.log)")
        XCTAssertEqual(reply["result"]?["adapters"]?.arrayValue?.first?["adapter_type"], "full")
        let ours = try VipsImage.load(path: out, limits: .default).planarRGB()
        let reference = try VipsImage.load(path: Self.fixtures + "/t2i_adapter/ref-sd1_full_euler.png", limits: .default).planarRGB()
        let worst = zip(ours.values, reference.values).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 2.0 / 255 + 1e-6, "8-bit difference \(worst * 255 / 2)")

        // The same request without the adapter differs: the adapter steered it.
        let plain = daemon.dir.file("plain.png")
        try client.request(2, "generate", [
            "model": "tiny", "prompt": "a red fox sitting in the snow", "negative_prompt": "blurry", "width": 32, "height": 32,
            "steps": 8, "cfg_scale": 7.5, "seed": 61, "sampler": "euler", "output": ["path": .string(plain)],
        ])
        XCTAssertNil(try client.collect(id: .integer(2), timeout: 120).response["error"])
        XCTAssertNotEqual(try VipsImage.load(path: plain, limits: .default).planarRGB().values, ours.values)
    }

    func testListingAndRefusals() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "models.list")
        let list = try client.collect(id: .integer(1), timeout: 30).response
        let adapters = (list["result"]?["models"]?.arrayValue ?? []).filter { $0["kind"] == "t2i-adapter" }
        XCTAssertEqual(adapters.compactMap { $0["name"]?.stringValue }, ["lineart", "more/light", "sketch", "xl-canny"], "\(list)")
        XCTAssertEqual(adapters.map { $0["adapter_type"] }, ["full", "light", "full", "xl"])
        XCTAssertEqual(adapters.map { $0["family"] }, ["sd1", "sd1", "sd1", "sdxl"])
        XCTAssertEqual(adapters.map { $0["hint_channels"] }, [3, 3, 1, 3])

        let picture: JSONValue = ["path": .string(Self.fixtures + "/t2i_adapter/control.png")]
        func refusal(_ id: Int64, _ method: String, _ params: [String: JSONValue]) throws -> JSONValue? {
            try client.request(id, method, params)
            return try client.collect(id: .integer(id), timeout: 60).response["error"]
        }
        let base: [String: JSONValue] = ["model": "tiny", "prompt": "x", "width": 32, "height": 32, "steps": 2]
        var p = base
        p["adapters"] = [["model": "nope", "image": picture]]
        XCTAssertEqual(try refusal(2, "generate", p)?["data"]?["field"], "adapters[0].model")
        p["adapters"] = [["model": "../tiny", "image": picture]]
        XCTAssertEqual(try refusal(3, "generate", p)?["data"]?["field"], "adapters[0].model", "no escaping the folder")
        p["adapters"] = [["model": "lineart", "image": picture], ["model": "xl-canny", "image": picture]]
        let family = try refusal(4, "generate", p)
        XCTAssertEqual(family?["data"]?["field"], "adapters[1].model", "an SDXL adapter on an SD1 model")
        XCTAssertTrue(family?["message"]?.stringValue?.contains("does not fit") ?? false, "\(String(describing: family))")
        p["adapters"] = [["model": "lineart", "image": ["base64": "bm90IGFuIGltYWdl"]]]
        XCTAssertEqual(try refusal(5, "generate", p)?["data"]?["field"], "adapters[0].image.base64")
        p["adapters"] = [["model": "lineart", "image": picture, "factor": 2]]
        XCTAssertEqual(try refusal(6, "generate", p)?["code"], -32602, "factor beyond 1 is refused by the schema")
        XCTAssertEqual(try refusal(7, "inpaint", ["image": picture, "mask": picture,
                                                  "adapters": [["model": "lineart", "image": picture]]])?["data"]?["field"], "adapters")
        // The daemon still serves: img2img with the grey sketch adapter and another with the light one run.
        var ok = base
        ok["image"] = picture
        ok["adapters"] = [["model": "sketch", "image": picture, "weight": 0.5], ["model": "more/light", "image": picture]]
        ok["output"] = ["format": "png"]
        try client.request(8, "img2img", ok)
        let reply = try client.collect(id: .integer(8), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)")
        XCTAssertEqual(reply["result"]?["adapters"]?.arrayValue?.count, 2)
    }
}
