import DiffusionProtocol
import Foundation
import Imaging
import StrictJSON
import XCTest

/// Embeddings bundled in a LoRA on the wire: usable by name while the LoRA is applied, reported in the LoRA's
/// `bundled_embeddings` and in `embeddings` with the LoRA that carried it.
final class LoRABundleOperationTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// kohya's addnet hash of Fixtures/lora/bundles/sd1_bundle.safetensors (Python: sha256 of the bytes after the header).
    static let addnetHash = "28d1c588cacd"

    func testBundledEmbeddingIsUsedAndReported() throws {
        let dir = try TempDir()
        let models = dir.file("models")
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: models + "/tiny", withDestinationPath: GenerateOperationTests.sd1Folder)
        try FileManager.default.createSymbolicLink(atPath: models + "/loras",
                                                   withDestinationPath: Self.fixtures.appendingPathComponent("lora/bundles").path)
        let daemon = try DaemonProcess(arguments: ["--models", models], withChecksumPlugin: false, dir: dir)
        defer { daemon.stop() }
        let client = try daemon.connect()
        let params: [String: JSONValue] = ["model": "tiny", "prompt": "a fox", "negative_prompt": "blurry, badhands", "steps": 2,
                                           "width": 32, "height": 32, "seed": 3, "loras": [["name": "sd1_bundle"]],
                                           "output": ["path": .string(dir.file("bundle.png"))]]
        try client.request(1, "generate", params)
        let reply = try client.collect(id: .integer(1), timeout: 120).response
        XCTAssertNil(reply["error"], "\(reply)\n\(daemon.log)")
        let lora = try XCTUnwrap(reply["result"]?["loras"]?.arrayValue?.first, "\(reply)")
        let bundled = try XCTUnwrap(lora["bundled_embeddings"]?.arrayValue, "\(lora)")
        XCTAssertEqual(bundled.map { $0["name"] }, ["badhands", "broken"])
        XCTAssertEqual(bundled[0]["vectors"], 3)
        XCTAssertNotNil(bundled[1]["error"]?.stringValue)
        let embeddings = try XCTUnwrap(reply["result"]?["embeddings"]?.arrayValue, "\(reply)")
        XCTAssertEqual(embeddings.map { $0["name"] }, ["badhands"])
        XCTAssertEqual(embeddings[0]["lora"], "sd1_bundle")
        XCTAssertEqual(embeddings[0]["replaced"]?.arrayValue?.first?["prompt"], "negative_prompt")
        // The PNG's parameters text: the LoRA as a tag after the prompt, its hash, the bundled embedding's "hash".
        let path = dir.file("bundle.png")
        XCTAssertEqual(reply["result"]?["images"]?.arrayValue?.first?["path"], .string(path))
        let text = try VipsImage.load(path: path, limits: .default).textEntries["parameters"] ?? ""
        XCTAssertTrue(text.hasPrefix("a fox <lora:sd1_bundle:1>\nNegative prompt: blurry, badhands\n"), text)
        XCTAssertTrue(text.hasSuffix(", RNG: CPU, Lora hashes: \"sd1_bundle: \(Self.addnetHash)\", TI hashes: \"badhands: sd1_bundle\""), text)

        // Without the LoRA the name is a word again.
        var plain = params
        plain["loras"] = nil
        plain["output"] = nil
        try client.request(2, "generate", plain)
        let without = try client.collect(id: .integer(2), timeout: 120).response
        XCTAssertNil(without["error"], "\(without)")
        XCTAssertNil(without["result"]?["embeddings"], "\(without)")
    }
}
