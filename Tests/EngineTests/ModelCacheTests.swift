import Engine
import Foundation
import XCTest

/// Resolution of model names in a models directory, LRU eviction under a budget, failed loads.
final class ModelCacheTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("engine-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let fm = FileManager.default
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tiny1").path,
                                  withDestinationPath: PipelineFixtures.modelFolder("sd1"))
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("tiny2v").path,
                                  withDestinationPath: PipelineFixtures.modelFolder("sd2v"))
        // Listed only: the tiny single files need non-SD hyper-parameters (CheckpointOptions.conventions) to load.
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("single1.ckpt").path,
                                  withDestinationPath: PipelineFixtures.singleFile("sd1"))
        try Data("not a checkpoint".utf8).write(to: dir.appendingPathComponent("broken.safetensors"))
        try Data("x".utf8).write(to: dir.appendingPathComponent("notes.txt"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testListsFoldersAndSingleFilesByName() throws {
        let cache = ModelCache(directory: dir.path)
        XCTAssertEqual(cache.list().map(\.name), ["broken", "single1", "tiny1", "tiny2v"])
        XCTAssertEqual(cache.list().map(\.kind), ["safetensors", "ckpt", "diffusers", "diffusers"])
        XCTAssert(cache.list().allSatisfy { !$0.loaded })
    }

    func testLoadsOnceAndResolvesExtension() throws {
        let cache = ModelCache(directory: dir.path)
        let a = try cache.model(named: "tiny2v")
        let b = try cache.model(named: "tiny2v")
        XCTAssert(a === b, "a resident model is shared, not reloaded")
        XCTAssertEqual(cache.residentNames, ["tiny2v"])
        XCTAssertEqual(a.tokenizer.padID, 0, "SD2 tokenizers pad with '!' (id 0)")
        XCTAssertEqual(try ModelDirectory(path: dir.path).resolve("single1.ckpt").name, "single1",
                       "names may carry the file extension")
    }

    func testUnknownAndUnsafeNames() {
        let cache = ModelCache(directory: dir.path)
        XCTAssertThrowsError(try cache.model(named: "missing")) { error in
            guard case EngineError.modelNotFound(_, let available) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(available, ["broken", "single1", "tiny1", "tiny2v"])
        }
        for bad in ["../tiny1", "/etc/passwd", ".hidden", ""] {
            XCTAssertThrowsError(try cache.model(named: bad)) { error in
                XCTAssertEqual(error as? EngineError, .invalidModelName(bad))
            }
        }
        XCTAssertThrowsError(try ModelCache(directory: nil).model(named: "tiny1")) { error in
            XCTAssertEqual(error as? EngineError, .noModelsDirectory)
        }
    }

    func testFailedLoadLeavesResidentModelsUsable() throws {
        let cache = ModelCache(directory: dir.path)
        let first = try cache.model(named: "tiny1")
        XCTAssertThrowsError(try cache.model(named: "broken")) { error in
            guard case EngineError.modelLoadFailed(let name, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "broken")
        }
        XCTAssertEqual(cache.residentNames, ["tiny1"])
        XCTAssert(try cache.model(named: "tiny1") === first)
    }

    func testLeastRecentlyUsedIsEvictedUnderBudget() throws {
        let probe = ModelCache(directory: dir.path)
        let one = try probe.model(named: "tiny1").bytes
        let two = try probe.model(named: "tiny2v").bytes
        XCTAssertEqual(probe.residentBytes, one + two)

        // Room for the two models, not for a third copy of the larger one.
        let cache = ModelCache(directory: dir.path, budgetBytes: one + two)
        try symlink("tiny3", to: PipelineFixtures.modelFolder("sd1"))
        _ = try cache.model(named: "tiny1")
        _ = try cache.model(named: "tiny2v")
        _ = try cache.model(named: "tiny1")          // tiny2v is now the least recently used
        _ = try cache.model(named: "tiny3")
        XCTAssertEqual(cache.residentNames, ["tiny1", "tiny3"])
        XCTAssertLessThanOrEqual(cache.residentBytes, one + two)

        XCTAssertTrue(cache.unload("tiny1"))
        XCTAssertFalse(cache.unload("tiny1"))
        XCTAssertEqual(cache.residentNames, ["tiny3"])
    }

    func testModelLargerThanBudgetStillLoadsAlone() throws {
        let cache = ModelCache(directory: dir.path, budgetBytes: 1)
        _ = try cache.model(named: "tiny1")
        _ = try cache.model(named: "tiny2v")
        XCTAssertEqual(cache.residentNames, ["tiny2v"])
    }

    private func symlink(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(name).path, withDestinationPath: target)
    }
}

final class SharedModelsTests: XCTestCase {
    func testBudgetText() {
        XCTAssertEqual(SharedModels.parseBytes("12000"), 12000)
        XCTAssertEqual(SharedModels.parseBytes("12G"), 12 << 30)
        XCTAssertEqual(SharedModels.parseBytes("1.5g"), 3 << 29)
        XCTAssertEqual(SharedModels.parseBytes("512M"), 512 << 20)
        XCTAssertNil(SharedModels.parseBytes("-5"))
        XCTAssertNil(SharedModels.parseBytes("lots"))
        // Beyond Int's range: refused, not a trap in Int(Double).
        XCTAssertNil(SharedModels.parseBytes("1e300G"))
        XCTAssertNil(SharedModels.parseBytes("infG"))
    }

    func testOneCachePerDirectory() {
        XCTAssert(SharedModels.cache(directory: "/tmp/a-models") === SharedModels.cache(directory: "/tmp/a-models"))
        XCTAssert(SharedModels.cache(directory: "/tmp/a-models") !== SharedModels.cache(directory: "/tmp/b-models"))
    }
}
