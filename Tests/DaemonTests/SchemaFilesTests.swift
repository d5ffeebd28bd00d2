import Builtins
import Daemon
import DiffusionProtocol
import Foundation
import Imaging
import PluginAPI
import StrictJSON
import XCTest

/// protocol/schema/*.json describe what the daemon really sends: every schema file is checked against live
/// messages with the daemon's own validator, and the published params schemas equal the files.
final class SchemaFilesTests: XCTestCase {
    func schema(_ name: String) throws -> JSONValue {
        let path = TestPaths.packageRoot.appendingPathComponent("protocol/schema/\(name).json").path
        return try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
    }

    func assertValid(_ value: JSONValue?, _ schemaName: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let v = try XCTUnwrap(value, "missing value for \(schemaName)", file: file, line: line)
        do { try SchemaValidator.validate(v, against: try schema(schemaName)) } catch let e as SchemaViolation {
            XCTFail("\(schemaName): \(e.field) \(e.reason) in \(JSONWriter.serialize(v).prefix(400))", file: file, line: line)
        }
    }

    /// Every built-in operation (plugins/* and models.*) has protocol/schema/<method>.params.json equal to the
    /// schema it publishes in `capabilities` (the one the daemon validates requests with), and a result file.
    /// External plugins (the test checksum plugin) are not part of the protocol and have none.
    func assertOperationSchemaFilesMatch(_ operations: [JSONValue], file: StaticString = #filePath, line: UInt = #line) throws {
        let builtin = operations.filter { $0["source"] == "builtin" }
        let names = builtin.compactMap { $0["method"]?.stringValue }
        // The operations BuiltinPlugins registers; each must come with its schema files.
        let registered = try PluginRegistry(builtin: BuiltinPlugins.all()).builtinEntries.map(\.plugin.method)
        XCTAssertEqual(names.sorted(), registered.sorted(), file: file, line: line)
        let folder = TestPaths.packageRoot.appendingPathComponent("protocol/schema").path
        for operation in builtin {
            guard let name = operation["method"]?.stringValue, let live = operation["params_schema"] else {
                XCTFail("malformed capabilities entry \(operation)", file: file, line: line)
                continue
            }
            guard FileManager.default.fileExists(atPath: "\(folder)/\(name).params.json") else {
                XCTFail("protocol/schema/\(name).params.json is missing", file: file, line: line)
                continue
            }
            XCTAssertTrue(live.jsonEquals(try schema("\(name).params")),
                          "protocol/schema/\(name).params.json is stale; the daemon publishes \(JSONWriter.serialize(live).prefix(300))...",
                          file: file, line: line)
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/\(name).result.json"),
                          "protocol/schema/\(name).result.json is missing", file: file, line: line)
        }
    }

    /// protocol/schema/ is exactly what `diffusiond schema --write` generates from the code (scripts/test.sh checks
    /// the same through the executable).
    func testSchemaFolderIsWhatTheCodeGenerates() throws {
        let folder = TestPaths.packageRoot.appendingPathComponent("protocol/schema").path
        let texts = try ProtocolSchemas.texts(registry: try PluginRegistry(builtin: BuiltinPlugins.all()))
        XCTAssertEqual(try SchemaFolder(path: folder).differences(from: texts), [],
                       "regenerate with: swift run diffusiond schema --write protocol/schema")
        for entry in try PluginRegistry(builtin: BuiltinPlugins.all()).builtinEntries {
            XCTAssertNotNil(texts["\(entry.plugin.method).result.json"], entry.plugin.method)
        }
    }

    func testSchemaFilesMatchLiveMessages() throws {
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        let client = try daemon.connect()

        let caps = try client.call(id: .integer(1), method: "capabilities", timeout: 10)
        try assertValid(caps["result"], "capabilities.result")
        try assertOperationSchemaFilesMatch(caps["result"]?["operations"]?.arrayValue ?? [])
        for method in caps["result"]?["methods"]?.arrayValue ?? [] {
            guard case .string(let name)? = method["method"], case .object(var file) = try schema("\(name).params") else {
                return XCTFail("no schema file for \(method)")
            }
            file["description"] = nil
            XCTAssertTrue(JSONValue.object(file).jsonEquals(method["params_schema"] ?? .null), "\(name).params.json is stale")
        }

        try assertValid(try client.call(id: .integer(2), method: "ping", timeout: 10)["result"], "ping.result")
        try assertValid(try client.call(id: .integer(3), method: "status", timeout: 10)["result"], "status.result")

        // A resize and its notifications.
        let out = daemon.dir.file("s.png")
        try client.request(4, "resize", ["image": ["path": .string(TestPaths.fixtures + "/small.png")], "scale": 0.5, "output": ["path": .string(out)]])
        let (resize, notes) = try client.collect(id: .integer(4), timeout: 30)
        try assertValid(resize["result"], "resize.result")
        XCTAssertEqual(notes.first?["method"], .string("queued"))
        XCTAssertEqual(notes.dropFirst().first?["method"], .string("started"))
        for note in notes {
            try assertValid(note["params"], "notification.\(note["method"]?.stringValue ?? "?")")
        }
        XCTAssertTrue(notes.contains { $0["method"] == .string("progress") })

        // status while a job runs, cancel's result and the error object.
        try client.request(5, "checksum", longChecksum)
        _ = try client.waitFor(notification: "progress", id: .integer(5), timeout: 20)
        let other = try daemon.connect()
        let busyStatus = try other.call(id: .integer(6), method: "status", timeout: 10)
        try assertValid(busyStatus["result"], "status.result")
        XCTAssertEqual(busyStatus["result"]?["running"]?["id"], .integer(5))
        try assertValid(try other.call(id: .integer(7), method: "cancel", params: ["id": 5], timeout: 10)["result"], "cancel.result")
        let cancelled = try client.collect(id: .integer(5), timeout: 20).response
        try assertValid(cancelled["error"], "error")
        try assertValid(try other.call(id: .integer(8), method: "shutdown", timeout: 10)["result"], "shutdown.result")
    }
    /// Every operation's result file against real results, through a daemon with the tiny fixture models
    /// (Tests/Fixtures/sd, Tests/Fixtures/upscale) in its models directory: each form a result can take (inline and
    /// file images, with and without a model, network and kernel upscale) is produced once and validated.
    func testOperationResultsMatchSchemaFiles() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        let fixtures = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures").path
        try FileManager.default.createDirectory(atPath: models + "/upscalers", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: fixtures + "/sd/sd1/diffusers")
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny-inpaint", withDestinationPath: fixtures + "/sd/sd1-inpaint/diffusers")
        try FileManager.default.createSymbolicLink(atPath: models + "/upscalers/tiny_compact.pth",
                                                   withDestinationPath: fixtures + "/upscale/tiny_compact.pth")
        for folder in ["embeddings", "hypernetworks"] {
            try FileManager.default.createSymbolicLink(atPath: models + "/" + folder, withDestinationPath: fixtures + "/embeddings/models/" + folder)
        }
        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let small = ["path": JSONValue.string(TestPaths.fixtures + "/small.png")]
        // A 16x12 mask (the size of small.png): white = repaint in a 6x4 block.
        let mask = dir.file("mask.png")
        var values = [Float](repeating: -1, count: 3 * 12 * 16)
        for c in 0 ..< 3 { for y in 4 ..< 8 { for x in 5 ..< 11 { values[(c * 12 + y) * 16 + x] = 1 } } }
        try VipsImage(planarRGB: PlanarRGB(width: 16, height: 12, values: values)).write(to: mask, overwrite: false)
        let generation: [String: JSONValue] = ["prompt": "a fox", "steps": 2, "seed": 3]

        var id: Int64 = 0
        func run(_ method: String, _ params: [String: JSONValue], line: UInt = #line) throws -> JSONValue {
            id += 1
            try client.request(id, method, params)
            let reply = try client.collect(id: .integer(id), timeout: 120).response
            XCTAssertNil(reply["error"], "\(method): \(reply)\n\(daemon.log)", line: line)
            try assertValid(reply["result"], "\(method).result", line: line)
            return reply["result"] ?? .null
        }

        _ = try run("models.list", [:])
        _ = try run("models.load", ["model": "tiny"])
        let generated = try run("generate", generation.merging(["model": "tiny", "width": 16, "height": 16, "batch_size": 2,
                                                               "output": ["format": "png"]]) { $1 })
        XCTAssertEqual(generated["images"]?.arrayValue?.count, 2)
        _ = try run("img2img", generation.merging(["model": "tiny", "image": .object(small), "strength": 0.5,
                                                  "output": ["path": .string(dir.file("i2i.png"))]]) { $1 })
        let filled = try run("inpaint", ["image": .object(small), "mask": ["path": .string(mask)], "fill": "edge"])
        XCTAssertNil(filled["model"], "the model-free form")
        let repainted = try run("inpaint", generation.merging(["model": "tiny-inpaint", "image": .object(small), "mask": ["path": .string(mask)],
                                                              "output": ["path": .string(dir.file("inpaint.png"))]]) { $1 })
        XCTAssertEqual(repainted["model"], "tiny-inpaint")
        _ = try run("outpaint", ["image": .object(small), "extend": ["right": 8], "fill": "edge"])
        _ = try run("outpaint", generation.merging(["model": "tiny", "image": .object(small), "extend": ["left": 8, "bottom": 4],
                                                   "window": 64]) { $1 })
        _ = try run("upscale", ["image": .object(small), "model": "lanczos3", "scale": 2])
        let network = try run("upscale", ["image": .object(small), "model": "tiny_compact", "tile": 16, "overlap": 4,
                                          "output": ["path": .string(dir.file("up.png"))]])
        XCTAssertNotNil(network["network"], "the network form")
        let control = try run("preprocess", ["image": .object(small), "preprocess": "canny", "resolution": 64])
        XCTAssertEqual(control["detected"], ["width": 85, "height": 64], "the working size, before the resize back")
        // The adapter members (embeddings, hypernetworks, ignored tags) in every result that can carry them.
        // A LoRA tag in prompt_2 is removed and listed in ignored_tags (those of prompt and negative_prompt apply).
        let adapted: [String: JSONValue] = ["prompt": "fluffstyle fox <hypernet:legacy:0.5>", "prompt_2": "<lora:x:1>", "negative_prompt": "badhands",
                                            "steps": 2, "seed": 3]
        var results = [try run("generate", adapted.merging(["model": "tiny", "width": 16, "height": 16]) { $1 })]
        results.append(try run("img2img", adapted.merging(["model": "tiny", "image": .object(small), "strength": 0.5]) { $1 }))
        results.append(try run("inpaint", adapted.merging(["model": "tiny-inpaint", "image": .object(small), "mask": ["path": .string(mask)]]) { $1 }))
        results.append(try run("outpaint", adapted.merging(["model": "tiny", "image": .object(small), "extend": ["right": 8], "window": 64]) { $1 }))
        results.append(try run("upscale", ["image": ["path": .string(dir.file("i2i.png"))], "model": "lanczos3", "scale": 2,
                                           "refine": .object(adapted.merging(["model": "tiny", "strength": 0.5, "tile": 32, "overlap": 8]) { $1 })]))
        for result in results {
            XCTAssertEqual(result["embeddings"]?.arrayValue?.count, 2, "\(result)")
            XCTAssertEqual(result["hypernetworks"]?.arrayValue?.count, 1, "\(result)")
            XCTAssertEqual(result["ignored_tags"], ["<lora:x:1>"], "\(result)")
        }
        _ = try run("models.list", [:])
        _ = try run("models.unload", ["model": "tiny"])
    }
}
