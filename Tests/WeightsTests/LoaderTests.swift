import Foundation
import StrictJSON
import Tensor
@testable import Weights
import XCTest

final class LoaderTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("loader-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testOpenDispatchesOnContent() throws {
        XCTAssertTrue(try WeightsLoader.open(path: Fixtures.path("basic.safetensors")) is SafeTensorsFile)
        XCTAssertTrue(try WeightsLoader.open(path: Fixtures.path("state.ckpt")) is TorchCheckpoint)
        XCTAssertTrue(try WeightsLoader.open(path: Fixtures.path("module.pth")) is TorchCheckpoint)
        XCTAssertTrue(try WeightsLoader.open(path: Fixtures.path("legacy.pt")) is TorchCheckpoint, "legacy torch.save format")
        let param = NCNNModelTests.folder.appendingPathComponent("realesr-animevideov3-x4.param").path
        if FileManager.default.fileExists(atPath: param) {
            XCTAssertTrue(try WeightsLoader.open(path: param) is NCNNModel)
        }
    }

    /// Writes shard files from `shards` (file -> tensor names taken from basic_f32) and an index.
    private func makeShards(_ shards: [String: [String]], map: [String: String]) throws -> String {
        let src = try SafeTensorsFile(path: Fixtures.path("basic_f32.safetensors"))
        for (file, names) in shards {
            var w = SafeTensorsWriter()
            for n in names { try w.add(n, try src.tensor(n)) }
            try w.write(to: dir.appendingPathComponent(file).path)
        }
        let entries = map.keys.sorted().map { "\(JSONWriter.quoted($0)): \(JSONWriter.quoted(map[$0]!))" }
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        try Data("{\"metadata\": {\"total_size\": 1}, \"weight_map\": {\(entries.joined(separator: ", "))}}".utf8).write(to: index)
        return index.path
    }

    func testShardedSafetensors() throws {
        let src = try SafeTensorsFile(path: Fixtures.path("basic_f32.safetensors"))
        let a = ["conv.weight", "conv.bias"], b = ["half.weight", "scalar"]
        var map: [String: String] = [:]
        for n in a { map[n] = "a.safetensors" }
        for n in b { map[n] = "b.safetensors" }
        let index = try makeShards(["a.safetensors": a, "b.safetensors": b], map: map)
        let s = try WeightsLoader.open(path: index)
        XCTAssertEqual(s.names, (a + b).sorted())
        for n in a + b { assertBitIdentical(try s.tensor(n), try src.tensor(n), n) }
    }

    func testShardIndexErrors() throws {
        var index = try makeShards(["a.safetensors": ["conv.bias"]], map: ["conv.bias": "../a.safetensors"])
        assertWeightsError("invalidShardIndex", path: index) { _ = try ShardedSafeTensors.open(indexPath: index) }
        index = try makeShards(["a.safetensors": ["conv.bias", "scalar"]], map: ["conv.bias": "a.safetensors"])
        assertWeightsError("invalidShardIndex", path: index) { _ = try ShardedSafeTensors.open(indexPath: index) }
        index = try makeShards(["a.safetensors": ["conv.bias"]], map: ["conv.bias": "a.safetensors", "scalar": "a.safetensors"])
        assertWeightsError("invalidShardIndex", path: index) { _ = try ShardedSafeTensors.open(indexPath: index) }
    }

    func testCombinedSourceRefusesDuplicates() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("basic.safetensors"))
        assertWeightsError("duplicateTensor", path: "label") { _ = try CombinedSource([f, f], label: "label") }
    }

    func testStrictShapeLoading() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("basic.safetensors"))
        XCTAssertEqual(try f.tensor("conv.bias", shape: [4]).shape, [4])
        XCTAssertThrowsError(try f.tensor("conv.bias", shape: [5])) {
            XCTAssertEqual($0 as? WeightsError, .shapeMismatch(tensor: "conv.bias", expected: [5], actual: [4]))
        }
        XCTAssertThrowsError(try f.tensor("nope", shape: [1])) {
            XCTAssertEqual($0 as? WeightsError, .missingTensor(tensor: "nope"))
        }
    }

    func testRenamedSource() throws {
        let f = try SafeTensorsFile(path: Fixtures.path("basic.safetensors"))
        let r = RenamedSource(f, mapping: ["w": "conv.weight"])
        XCTAssertEqual(r.names, ["w"])
        XCTAssertEqual(r.shape(of: "w"), [4, 3, 3, 3])
        XCTAssertNil(r.shape(of: "conv.weight"))
        assertBitIdentical(try r.tensor("w"), try f.tensor("conv.weight"), "w")
    }
}
