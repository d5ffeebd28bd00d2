import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import Weights
import XCTest

/// Embeddings and hypernetworks through a real daemon: `<models>/embeddings` and `<models>/hypernetworks` beside the
/// tiny sd1 model, prompt tags and the structured member, the result's report, `models.list`, and the refusals.
/// Images are compared with the references of Tests/Fixtures/embeddings (scripts/fixtures/make_embedding_fixtures.py).
final class AdapterOperationTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/embeddings")

    private func startDaemon() throws -> DaemonProcess {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        for folder in ["embeddings", "hypernetworks"] {
            try FileManager.default.createSymbolicLink(atPath: models + "/" + folder,
                                                       withDestinationPath: Self.fixtures.appendingPathComponent("models/\(folder)").path)
        }
        return try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
    }

    /// The PNG at `path` against `<case>.image8` (within 1 of 255 per channel).
    private func assertMatchesReference(_ path: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let refs = try SafeTensorsFile(path: Self.fixtures.appendingPathComponent("references.safetensors").path)
        let expected = try refs.tensor("\(name).image8").scalars
        let png = try VipsImage.load(path: path, limits: .default)
        let planar = try png.toTensor()  // [1, 3, H, W] in [-1, 1]
        let (h, w) = (png.height, png.width)
        var worst: Float = 0
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let ours = ((planar.scalars[(c * h + y) * w + x] + 1) / 2 * 255).rounded()
                    worst = max(worst, abs(ours - expected[(y * w + x) * 3 + c]))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(name): 8-bit max diff", file: file, line: line)
    }

    func testEmbeddingsAndHypernetworksApplyAndAreReported() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let common: [String: JSONValue] = ["model": "tiny", "sampler": "euler", "steps": 6, "cfg_scale": 7, "width": 32, "height": 32]
        // sd1_subfolder_and_repeat, with a hypernetwork tag in the negative prompt (removed, not applied; LoRA tags are
        // applied, see LoRAOperationTests).
        let out1 = daemon.dir.file("emb.png")
        try client.request(1, "generate", common.merging([
            "prompt": "fluffstyle cat, styles/onevec dog, fluffstyle, ditto", "negative_prompt": "ditto<hypernet:legacy:1>",
            "seed": 13, "output": ["path": .string(out1)],
        ]) { _, new in new })
        let r1 = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(r1["error"], "\(r1)\n\(daemon.log)")
        try assertMatchesReference(out1, "sd1_subfolder_and_repeat")
        let result1 = r1["result"]
        XCTAssertEqual(result1?["embeddings"]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }, ["fluffstyle", "styles/onevec", "ditto"])
        XCTAssertEqual(result1?["embeddings"]?.arrayValue?.first?["replaced"], [["prompt": "prompt", "occurrences": 2, "tokens": 4]])
        XCTAssertEqual(result1?["embeddings"]?.arrayValue?.last?["replaced"],
                       [["prompt": "prompt", "occurrences": 1, "tokens": 1], ["prompt": "negative_prompt", "occurrences": 1, "tokens": 1]])
        XCTAssertEqual(result1?["ignored_tags"], ["<hypernet:legacy:1>"])
        XCTAssertNil(result1?["hypernetworks"], "negative-prompt tags are not applied")

        // hn_stacked: modern 0.6 from the prompt tag, then legacy 0.8 from the structured member.
        let out2 = daemon.dir.file("hn.png")
        try client.request(2, "generate", common.merging([
            "prompt": "a red fox <hypernet:modern:0.6>in the snow", "negative_prompt": "blurry", "seed": 32,
            "hypernetworks": [["name": "legacy", "weight": 0.8]], "output": ["path": .string(out2)],
        ]) { _, new in new })
        let r2 = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertNil(r2["error"], "\(r2)\n\(daemon.log)")
        try assertMatchesReference(out2, "hn_stacked")
        XCTAssertEqual(r2["result"]?["hypernetworks"], [
            ["name": "modern", "weight": 0.6, "matched_widths": [16, 24, 32], "widths": [16, 24, 32, 64]],
            ["name": "legacy", "weight": 0.8, "matched_widths": [16, 32], "widths": [16, 32]],
        ])
        XCTAssertNil(r2["result"]?["embeddings"])

        // A request without adapters afterwards equals a plain run (nothing stays applied).
        try client.request(3, "models.list")
        let list = try client.collect(id: .integer(3), timeout: 30).response
        let models = list["result"]?["models"]?.arrayValue ?? []
        let byName = Dictionary(models.map { ($0["name"]?.stringValue ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(byName["xlemb"]?["kind"], "embedding")
        XCTAssertEqual(byName["xlemb"]?["family"], "sdxl")
        XCTAssertEqual(byName["xlemb"]?["vectors"], 2)
        XCTAssertEqual(byName["xlemb"]?["clip_l_width"], 32)
        XCTAssertEqual(byName["xlemb"]?["clip_g_width"], 48)
        XCTAssertEqual(byName["badhands"]?["vectors"], 3)
        XCTAssertEqual(byName["badhands"]?["width"], 32)
        XCTAssertGreaterThan(byName["badhands"]?["file_bytes"]?.intValue ?? 0, 0)
        XCTAssertNotNil(byName["styles/onevec"])
        XCTAssertEqual(byName["modern"]?["kind"], "hypernetwork")
        XCTAssertEqual(byName["modern"]?["widths"], "16,24,32,64")
        XCTAssertEqual(byName["modern"]?["activation"], "swish")
        XCTAssertEqual(byName["modern"]?["loaded"], true, "hosted after use")
        XCTAssertEqual(byName["legacy"]?["loaded"], true)
        XCTAssertEqual(byName["nomatch"]?["loaded"], false)
    }

    func testBadAdaptersAreInvalidParams() throws {
        let daemon = try startDaemon()
        defer { daemon.stop() }
        let client = try daemon.connect()
        let common: [String: JSONValue] = ["model": "tiny", "steps": 1, "width": 32, "height": 32]
        let cases: [(params: [String: JSONValue], field: String, mentions: [String])] = [
            (["prompt": "a widevec cat"], "prompt", ["widevec", "width 32"]),
            (["prompt": "a cat", "negative_prompt": "xlemb"], "negative_prompt", ["xlemb", "width 32"]),
            (["prompt": "a cat <hypernet:missing:1>"], "prompt", ["missing", "legacy"]),
            (["prompt": "a cat", "hypernetworks": [["name": "nomatch"]]], "hypernetworks[0]", ["nomatch", "[40]"]),
            (["prompt": "a cat <hypernet:legacy:strong>"], "prompt", ["strong"]),
            (["prompt": "a cat", "hypernetworks": [["name": "../embeddings/fluffstyle"]]], "hypernetworks[0]", ["../embeddings/fluffstyle"]),
        ]
        for (i, c) in cases.enumerated() {
            try client.request(Int64(i + 1), "generate", common.merging(c.params) { _, new in new })
            let reply = try client.collect(id: .integer(Int64(i + 1)), timeout: 60).response
            XCTAssertEqual(reply.errorCode, RPCErrorCode.invalidParams, "\(c.params): \(reply)")
            let message = reply["error"]?["message"]?.stringValue ?? ""
            XCTAssertEqual(reply["error"]?["data"]?["field"]?.stringValue, c.field, "\(reply)")
            for word in c.mentions { XCTAssertTrue(message.contains(word), "\(message) should mention \(word)") }
        }
        // Schema: a weight out of range, an unknown member of an item.
        try client.request(20, "generate", common.merging(["prompt": "x", "hypernetworks": [["name": "legacy", "weight": 100]]]) { _, n in n })
        XCTAssertEqual(try client.collect(id: .integer(20), timeout: 60).response.errorCode, RPCErrorCode.invalidParams)
        try client.request(21, "generate", common.merging(["prompt": "x", "hypernetworks": [["name": "legacy", "strength": 1]]]) { _, n in n })
        XCTAssertEqual(try client.collect(id: .integer(21), timeout: 60).response.errorCode, RPCErrorCode.invalidParams)
    }
}
