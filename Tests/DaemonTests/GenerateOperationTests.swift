import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// `generate`, `img2img` and `models.*` through a real daemon, with the tiny sd1 fixture model
/// (Tests/Fixtures/sd/sd1/diffusers, from scripts/fixtures/make_sd_fixtures.py) in a models directory.
final class GenerateOperationTests: XCTestCase {
    static let sd1Folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sd/sd1/diffusers").path

    private func startDaemon() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: Self.sd1Folder)
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    func testGenerateWritesPNGsWithSeedsAndParameters() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let out = daemon.dir.file("out.png")
        try client.request(1, "generate", [
            "model": "tiny", "prompt": "a red fox", "negative_prompt": "blurry", "sampler": "DPM++ 2M Karras",
            "steps": 6, "cfg_scale": 7.5, "seed": 42, "width": 32, "height": 24, "batch_size": 2,
            "output": ["path": .string(out)], "preview": ["every": 2, "path": .string(daemon.dir.file("preview.png"))],
        ])
        let (reply, notes) = try client.collect(id: .integer(1), timeout: 120)
        XCTAssertNil(reply["error"], "\(reply)\n\(daemon.log)")
        let images = reply["result"]?["images"]?.arrayValue ?? []
        XCTAssertEqual(images.count, 2)
        XCTAssertEqual(reply["result"]?["seeds"], [42, 43])
        for (i, image) in images.enumerated() {
            let path = daemon.dir.file("out-\(i + 1).png")
            XCTAssertEqual(image["path"], .string(path))
            XCTAssertEqual(image["seed"]?.intValue, 42 + i)
            let png = try VipsImage.load(path: path, limits: .default)
            XCTAssertEqual([png.width, png.height], [32, 24])
            let text = png.textEntries["parameters"] ?? ""
            XCTAssertEqual(text, "a red fox\nNegative prompt: blurry\nSteps: 6, Sampler: DPM++ 2M, Schedule type: Karras, "
                           + "CFG scale: 7.5, Seed: \(42 + i), Size: 32x24, Model: tiny, RNG: CPU")
        }
        // The preview is the latent grid (one pixel per latent cell of the tiny model's factor-2 VAE), no VAE.
        let preview = try VipsImage.load(path: daemon.dir.file("preview.png"), limits: .default)
        XCTAssertEqual([preview.width, preview.height], [16, 12])
        let sampling = notes.filter { $0["params"]?["stage"] == "sampling" }
        XCTAssertFalse(sampling.isEmpty, "progress notifications during sampling")
        XCTAssertEqual(sampling.last?["params"]?["step"]?.intValue, 6)
        XCTAssertEqual(sampling.last?["params"]?["steps"]?.intValue, 6)
        XCTAssertNotNil(sampling.last?["params"]?["remaining_ms"], "eta is reported")
    }

    /// A NUL in any text member is refused before the job starts (-32602 naming the member): the image's PNG text,
    /// paths and names cannot hold one. The daemon then serves the next request.
    func testNULInATextMemberIsRefusedUpFront() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let out: JSONValue = ["path": .string(daemon.dir.file("nul.png"))]
        let photo: JSONValue = ["path": .string(daemon.dir.file("missing.png"))]
        let cases: [(String, [String: JSONValue], String)] = [
            ("generate", ["model": "tiny", "prompt": "a red\u{0} fox", "output": out], "prompt"),
            ("generate", ["model": "tiny", "prompt": "x", "negative_prompt": "\u{0}", "output": out], "negative_prompt"),
            ("generate", ["model": "tiny", "prompt": "x", "prompt_2": "b\u{0}", "output": out], "prompt_2"),
            ("img2img", ["model": "tiny", "prompt": "x", "image": photo, "negative_prompt_2": "n\u{0}", "output": out], "negative_prompt_2"),
            ("upscale", ["image": photo, "model": "bicubic", "scale": 2, "output": out,
                         "refine": ["model": "tiny", "prompt": "a\u{0}"]], "refine.prompt"),
            ("generate", ["model": "ti\u{0}ny", "prompt": "x", "output": out], "model"),
        ]
        for (index, (method, params, field)) in cases.enumerated() {
            let id = Int64(index + 1)
            try client.request(id, method, params)
            let (reply, _) = try client.collect(id: .integer(id), timeout: 30)
            XCTAssertEqual(reply.errorCode, -32602, "\(method) \(field): \(reply)")
            XCTAssertEqual(reply["error"]?["data"]?["field"]?.stringValue, field, "\(reply)")
            XCTAssertTrue(reply["error"]?["message"]?.stringValue?.contains("NUL") ?? false, "\(reply)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.dir.file("nul.png")))
        try client.request(99, "generate", ["model": "tiny", "prompt": "a red fox", "steps": 2, "width": 16, "height": 16, "output": out])
        let (reply, _) = try client.collect(id: .integer(99), timeout: 120)
        XCTAssertNil(reply["error"], "the next request is served: \(reply)")
    }

    /// inpaint and outpaint take the same `preview` member (editor plug-ins show it while they sample): the
    /// latent grid of the region they repaint, rewritten during sampling; a refused path fails before any step.
    func testInpaintAndOutpaintWriteThePreview() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let picture = daemon.dir.file("in.png")
        var values = [Float](repeating: 0, count: 3 * 32 * 32)
        for i in values.indices { values[i] = Float(i % 89) / 44.5 - 1 }
        try VipsImage(planarRGB: PlanarRGB(width: 32, height: 32, values: values)).write(to: picture, overwrite: false)
        let common: [String: JSONValue] = ["model": "tiny", "prompt": "a fox", "steps": 3, "seed": 1,
                                           "image": ["path": .string(picture)], "output": ["format": "png"]]
        for (id, method) in [(Int64(1), "inpaint"), (2, "outpaint")] {
            let preview = daemon.dir.file("\(method)-preview.png")
            var params = common
            params["preview"] = ["every": 1, "path": .string(preview)]
            if method == "inpaint" { params["mask"] = ["path": .string(picture)] } else { params["extend"] = ["right": 16] }
            try client.request(id, method, params)
            let (reply, notes) = try client.collect(id: .integer(id), timeout: 120)
            XCTAssertNil(reply["error"], "\(method): \(reply)\n\(daemon.log)")
            XCTAssertFalse(notes.filter { $0["params"]?["stage"] == "sampling" }.isEmpty, method)
            let png = try VipsImage.load(path: preview, limits: .default)
            // One pixel per latent cell of the tiny model's factor-2 VAE: the whole 32x32 picture, or the 48x32 canvas.
            XCTAssertEqual([png.width, png.height], method == "inpaint" ? [16, 16] : [24, 16], method)
        }
        var refused = common
        refused["mask"] = ["path": .string(picture)]
        refused["preview"] = ["every": 1, "path": .string(daemon.dir.file("preview.jpg"))]
        try client.request(3, "inpaint", refused)
        let reply = try client.collect(id: .integer(3), timeout: 60).response
        XCTAssertEqual(reply.errorCode, RPCErrorCode.invalidParams, "\(reply)")
        XCTAssertEqual(reply["error"]?["data"]?["field"], "preview.path", "\(reply)")
    }

    func testMissingSeedIsRandomAndReportedAndSizeIsValidated() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "generate", ["model": "tiny", "prompt": "x", "steps": 2, "width": 32, "height": 32,
                                           "output": ["format": "png"]])
        let reply = try client.collect(id: .integer(1), timeout: 120).response
        let seed = reply["result"]?["images"]?.arrayValue?.first?["seed"]?.intValue
        XCTAssertNotNil(seed, "\(reply)")
        XCTAssert((0...Int(UInt32.max)).contains(seed ?? -1), "a 32-bit seed")
        XCTAssertNotNil(reply["result"]?["images"]?.arrayValue?.first?["base64"])

        try client.request(2, "generate", ["model": "tiny", "prompt": "x", "width": 36, "height": 32])
        XCTAssertEqual(try client.collect(id: .integer(2), timeout: 60).response.errorCode, RPCErrorCode.invalidParams)
        try client.request(3, "generate", ["model": "nope", "prompt": "x", "width": 32, "height": 32])
        let missing = try client.collect(id: .integer(3), timeout: 60).response
        XCTAssertEqual(missing.errorCode, RPCErrorCode.invalidParams)
        XCTAssert(missing["error"]?["message"]?.stringValue?.contains("tiny") ?? false, "lists the available models: \(missing)")
    }

    func testCancelAnswersWithinAStep() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "generate", ["model": "tiny", "prompt": "x", "steps": 1000, "width": 32, "height": 32,
                                           "sampler": "euler_a"])
        _ = try client.waitFor(notification: "progress", id: .integer(1), timeout: 60)
        // Wait for a sampling step so the cancel lands mid-loop.
        while true {
            let n = try client.waitFor(notification: "progress", id: .integer(1), timeout: 60)
            if n["params"]?["stage"] == "sampling" { break }
        }
        try client.request(2, "cancel", ["id": 1])
        let reply = try client.collect(id: .integer(1), timeout: 30).response
        XCTAssertEqual(reply.errorCode, RPCErrorCode.cancelled, "\(reply)")
    }

    func testImg2ImgAndModelMethods() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        try client.request(1, "models.list")
        let list = try client.collect(id: .integer(1), timeout: 30).response
        XCTAssertEqual(list["result"]?["models"]?.arrayValue?.first?["name"], "tiny")
        XCTAssertEqual(list["result"]?["models"]?.arrayValue?.first?["loaded"], false)

        try client.request(2, "models.load", ["model": "tiny"])
        let load = try client.collect(id: .integer(2), timeout: 60).response
        XCTAssertEqual(load["result"]?["resident"], ["tiny"], "\(load)")
        XCTAssertGreaterThan(load["result"]?["bytes"]?.intValue ?? 0, 0)

        // A 40x30 source, fitted by crop-and-resize to 32x32.
        let src = daemon.dir.file("src.png")
        var values = [Float](repeating: 0, count: 3 * 30 * 40)
        for i in values.indices { values[i] = Float(i % 97) / 48.5 - 1 }
        try VipsImage(planarRGB: PlanarRGB(width: 40, height: 30, values: values)).write(to: src, overwrite: false)
        let out = daemon.dir.file("i2i.png")
        try client.request(3, "img2img", ["model": "tiny", "prompt": "a fox", "image": ["path": .string(src)],
                                          "strength": 0.5, "steps": 10, "seed": 7, "width": 32, "height": 32,
                                          "resize_mode": "crop and resize", "output": ["path": .string(out)]])
        let (i2i, notes) = try client.collect(id: .integer(3), timeout: 120)
        XCTAssertNil(i2i["error"], "\(i2i)")
        XCTAssertEqual(i2i["result"]?["steps"]?.intValue, 5, "steps 10 x strength 0.5 runs 5 steps, as diffusers")
        XCTAssertEqual(notes.filter { $0["params"]?["stage"] == "sampling" }.last?["params"]?["steps"]?.intValue, 5)
        let png = try VipsImage.load(path: out, limits: .default)
        XCTAssert(png.textEntries["parameters"]?.contains("Denoising strength: 0.5") ?? false)

        try client.request(4, "models.unload", ["model": "tiny"])
        let unload = try client.collect(id: .integer(4), timeout: 30).response
        XCTAssertEqual(unload["result"]?["unloaded"], true)
        XCTAssertEqual(unload["result"]?["resident"], [])
    }

    /// `models.list` and `status` read the model host beside the queue: they answer at once while a long job runs,
    /// and report what is resident for real.
    func testModelsListAndStatusAnswerWhileAJobRuns() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: Self.sd1Folder)
        try FileManager.default.createDirectory(atPath: models + "/upscalers", withIntermediateDirectories: true)
        let compact = URL(fileURLWithPath: Self.sd1Folder).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("upscale/tiny_compact.safetensors").path
        try FileManager.default.createSymbolicLink(atPath: models + "/upscalers/compact.safetensors", withDestinationPath: compact)
        let daemon = try DaemonProcess(arguments: ["--models", models, "--memory-budget", "1G"], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let worker = try daemon.connect()
        try worker.request(1, "generate", ["model": "tiny", "prompt": "x", "steps": 1000, "width": 32, "height": 32,
                                           "sampler": "euler_a", "output": ["format": "png"]])
        while true {
            let n = try worker.waitFor(notification: "progress", id: .integer(1), timeout: 60)
            if n["params"]?["stage"] == "sampling" { break }
        }

        let observer = try daemon.connect()
        let started = Date()
        try observer.request(2, "models.list")
        let list = try observer.collect(id: .integer(2), timeout: 10).response
        try observer.request(3, "status")
        let status = try observer.collect(id: .integer(3), timeout: 10).response
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "answered beside the running job, not after it")
        XCTAssertEqual(status["result"]?["running"]?["method"], "generate", "the job is still running: \(status)")

        let listed = list["result"]?["models"]?.arrayValue ?? []
        let tiny = listed.first { $0["name"] == "tiny" }
        XCTAssertEqual(tiny?["kind"], "stable-diffusion", "\(list)")
        XCTAssertEqual(tiny?["format"], "diffusers")
        XCTAssertEqual(tiny?["loaded"], true)
        XCTAssertEqual(tiny?["prediction"], "epsilon")
        XCTAssertEqual(tiny?["inpainting"], false)
        XCTAssertGreaterThan(tiny?["bytes"]?.intValue ?? 0, 0)
        let upscaler = listed.first { $0["name"] == "compact" }
        XCTAssertEqual(upscaler?["kind"], "upscaler", "\(list)")
        XCTAssertEqual(upscaler?["loaded"], false)
        XCTAssertEqual(list["result"]?["memory_budget_bytes"]?.intValue, 1 << 30)

        let resident = status["result"]?["models_loaded"]?.arrayValue ?? []
        XCTAssertEqual(resident.count, 1, "\(status)")
        XCTAssertEqual(resident.first?["name"], "tiny")
        XCTAssertEqual(resident.first?["kind"], "stable-diffusion")
        XCTAssertEqual(resident.first?["bytes"], tiny?["bytes"])
        XCTAssertEqual(status["result"]?["resident_bytes"], tiny?["bytes"])

        try observer.request(4, "cancel", ["id": 1])
        XCTAssertEqual(try worker.collect(id: .integer(1), timeout: 30).response.errorCode, RPCErrorCode.cancelled)
    }
}
