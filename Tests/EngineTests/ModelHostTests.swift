import Engine
import Foundation
import Models
import XCTest

/// Resolution of model names in a models directory, LRU eviction under one budget for every kind, failed
/// loads, reloads of replaced files, and the catalog of everything the daemon can use.
final class ModelHostTests: XCTestCase {
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
        let cache = ModelHost(directory: dir.path)
        XCTAssertEqual(checkpoints(cache).map(\.name), ["broken", "single1", "tiny1", "tiny2v"])
        XCTAssertEqual(checkpoints(cache).map(\.format), ["safetensors", "ckpt", "diffusers", "diffusers"])
        XCTAssert(checkpoints(cache).allSatisfy { !$0.loaded })
    }

    func testLoadsOnceAndResolvesExtension() throws {
        let cache = ModelHost(directory: dir.path)
        let a = try cache.stableDiffusion(named: "tiny2v")
        let b = try cache.stableDiffusion(named: "tiny2v")
        XCTAssert(a === b, "a resident model is shared, not reloaded")
        XCTAssertEqual(residentNames(cache), ["tiny2v"])
        XCTAssertEqual(a.tokenizer.padID, 0, "SD2 tokenizers pad with '!' (id 0)")
        XCTAssertEqual(try ModelDirectory(path: dir.path).resolve("single1.ckpt").name, "single1",
                       "names may carry the file extension")
    }

    func testUnknownAndUnsafeNames() {
        let cache = ModelHost(directory: dir.path)
        XCTAssertThrowsError(try cache.stableDiffusion(named: "missing")) { error in
            guard case EngineError.modelNotFound(_, let available) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(available, ["broken", "single1", "tiny1", "tiny2v"])
        }
        for bad in ["../tiny1", "/etc/passwd", ".hidden", ""] {
            XCTAssertThrowsError(try cache.stableDiffusion(named: bad)) { error in
                XCTAssertEqual(error as? EngineError, .invalidModelName(bad))
            }
        }
        XCTAssertThrowsError(try ModelHost(directory: nil).stableDiffusion(named: "tiny1")) { error in
            XCTAssertEqual(error as? EngineError, .noModelsDirectory)
        }
    }

    func testFailedLoadLeavesResidentModelsUsable() throws {
        let cache = ModelHost(directory: dir.path)
        let first = try cache.stableDiffusion(named: "tiny1")
        XCTAssertThrowsError(try cache.stableDiffusion(named: "broken")) { error in
            guard case EngineError.modelLoadFailed(let name, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, "broken")
        }
        XCTAssertEqual(residentNames(cache), ["tiny1"])
        XCTAssert(try cache.stableDiffusion(named: "tiny1") === first)
    }

    func testLeastRecentlyUsedIsEvictedUnderBudget() throws {
        let probe = ModelHost(directory: dir.path)
        let one = try probe.stableDiffusion(named: "tiny1").bytes
        let two = try probe.stableDiffusion(named: "tiny2v").bytes
        XCTAssertEqual(probe.residentBytes, one + two)

        // Room for the two models, not for a third copy of the larger one.
        let cache = ModelHost(directory: dir.path, budgetBytes: one + two)
        try symlink("tiny3", to: PipelineFixtures.modelFolder("sd1"))
        _ = try cache.stableDiffusion(named: "tiny1")
        _ = try cache.stableDiffusion(named: "tiny2v")
        _ = try cache.stableDiffusion(named: "tiny1")          // tiny2v is now the least recently used
        _ = try cache.stableDiffusion(named: "tiny3")
        XCTAssertEqual(residentNames(cache), ["tiny1", "tiny3"])
        XCTAssertLessThanOrEqual(cache.residentBytes, one + two)

        XCTAssertTrue(cache.unload(kind: .stableDiffusion, name: "tiny1"))
        XCTAssertFalse(cache.unload(kind: .stableDiffusion, name: "tiny1"))
        XCTAssertEqual(residentNames(cache), ["tiny3"])
    }

    func testModelLargerThanBudgetStillLoadsAlone() throws {
        let cache = ModelHost(directory: dir.path, budgetBytes: 1)
        _ = try cache.stableDiffusion(named: "tiny1")
        _ = try cache.stableDiffusion(named: "tiny2v")
        XCTAssertEqual(residentNames(cache), ["tiny2v"])
    }

    func testUpscalersAndCheckpointsShareOneBudget() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("upscalers"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: PipelineFixtures.root.appendingPathComponent("upscale/tiny_compact.safetensors").path,
                                         toPath: dir.appendingPathComponent("upscalers/compact.safetensors").path)
        let probe = ModelHost(directory: dir.path)
        let sd = try probe.stableDiffusion(named: "tiny1").bytes
        let upscaler = try probe.upscaler(named: "compact")
        XCTAssertEqual(upscaler.architecture, "SRVGGNetCompact")
        let upscalerBytes = probe.residentBytes - sd
        XCTAssertEqual(upscalerBytes, upscaler.network.parameterCount * 4)
        XCTAssertEqual(probe.residentModels().map(\.key), [ModelKey(kind: .stableDiffusion, name: "tiny1"),
                                                            ModelKey(kind: .upscaler, name: "compact")])

        // Room for the checkpoint alone: loading the upscaler evicts it (least recently used, another kind).
        let host = ModelHost(directory: dir.path, budgetBytes: sd)
        _ = try host.stableDiffusion(named: "tiny1")
        _ = try host.upscaler(named: "compact")
        XCTAssertEqual(host.residentModels().map(\.key.name), ["compact"])
        XCTAssertThrowsError(try host.upscaler(named: "missing")) { error in
            guard case EngineError.upscalerNotFound(_, _, let available) = error else { return XCTFail("\(error)") }
            XCTAssert(available.contains("compact"))
        }
        XCTAssertTrue(host.unload(kind: .upscaler, name: "compact"))
        XCTAssertEqual(host.residentBytes, 0)
    }

    func testReplacedFileIsReloadedAndOldCopyStaysUsable() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("upscalers"), withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("upscalers/compact.safetensors").path
        try FileManager.default.copyItem(atPath: PipelineFixtures.root.appendingPathComponent("upscale/tiny_compact.safetensors").path, toPath: file)
        var loads = 0
        let host = ModelHost(directory: dir.path, upscalerLoader: { path in loads += 1; return try UpscalerModel.load(path: path) })
        let first = try host.upscaler(named: "compact")
        _ = try host.upscaler(named: "compact")
        XCTAssertEqual(loads, 1, "an unchanged file is served from memory")
        // Replace by rename, as an editor or a download tool would; a new modification time marks it stale.
        let replacement = dir.appendingPathComponent("upscalers/.new").path
        try FileManager.default.copyItem(atPath: file, toPath: replacement)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: replacement)
        XCTAssertEqual(rename(replacement, file), 0)
        let second = try host.upscaler(named: "compact")
        XCTAssertEqual(loads, 2, "a replaced file is loaded again")
        XCTAssert(first.network !== second.network)
        XCTAssertEqual(host.residentModels().count, 1, "the stale copy is not kept beside its replacement")
    }

    func testCatalogListsEveryKindWithoutLoading() throws {
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("upscalers"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: PipelineFixtures.root.appendingPathComponent("upscale/tiny_compact.safetensors").path,
                                         toPath: dir.appendingPathComponent("upscalers/compact.safetensors").path)
        let host = ModelHost(directory: dir.path)
        let before = host.catalog()
        XCTAssertEqual(before.filter { $0.kind == .upscaler }.map(\.name), ["compact"])
        XCTAssertEqual(before.filter { $0.kind == .stableDiffusion }.map(\.name), ["broken", "single1", "tiny1", "tiny2v"])
        XCTAssert(before.allSatisfy { !$0.loaded })
        XCTAssertEqual(host.residentBytes, 0, "listing loads nothing")
        _ = try host.upscaler(named: "compact")
        let after = host.catalog().first { $0.name == "compact" }
        XCTAssertEqual(after?.loaded, true)
        XCTAssertEqual(after?.details["architecture"], "SRVGGNetCompact")
    }

    private func checkpoints(_ host: ModelHost) -> [ModelListing] {
        host.catalog().filter { $0.kind == .stableDiffusion }
    }

    private func residentNames(_ host: ModelHost) -> [String] {
        host.residentModels().map(\.key.name)
    }

    private func symlink(_ name: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(name).path, withDestinationPath: target)
    }
}

final class ByteCountTests: XCTestCase {
    func testBudgetText() {
        XCTAssertEqual(ByteCount.parse("12000"), 12000)
        XCTAssertEqual(ByteCount.parse("12G"), 12 << 30)
        XCTAssertEqual(ByteCount.parse("1.5g"), 3 << 29)
        XCTAssertEqual(ByteCount.parse("512M"), 512 << 20)
        XCTAssertNil(ByteCount.parse("-5"))
        XCTAssertNil(ByteCount.parse("lots"))
        // Beyond Int's range: refused, not a trap in Int(Double).
        XCTAssertNil(ByteCount.parse("1e300G"))
        XCTAssertNil(ByteCount.parse("infG"))
    }
}

/// Names under a kind's folder: relative paths, never out of the folder.
final class ModelSubfolderTests: XCTestCase {
    func testNamesStayInsideTheFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("subfolder-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/kind/styles", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/outside", withIntermediateDirectories: true)
        for file in ["/kind/a.safetensors", "/kind/styles/b.pth", "/outside/secret.safetensors", "/kind/.hidden.safetensors"] {
            fm.createFile(atPath: root + file, contents: Data([0]))
        }
        try fm.createSymbolicLink(atPath: root + "/kind/linked.safetensors", withDestinationPath: root + "/outside/secret.safetensors")
        try fm.createSymbolicLink(atPath: root + "/kind/escape", withDestinationPath: root + "/outside")
        let folder = ModelSubfolder(path: root + "/kind", extensions: ["safetensors", "pth"], isModelFolder: { _ in false })
        XCTAssertEqual(folder.resolve("a"), root + "/kind/a.safetensors")
        XCTAssertEqual(folder.resolve("styles/b"), root + "/kind/styles/b.pth")
        XCTAssertEqual(folder.resolve("linked"), root + "/kind/linked.safetensors", "a linked model entry is the operator's choice")
        for bad in ["../outside/secret", "/etc/passwd", "styles/../a", "escape/secret", ".hidden", "", "a/", "styles//b"] {
            XCTAssertNil(folder.resolve(bad), bad)
        }
        XCTAssertEqual(folder.names(), ["a", "linked", "styles/b"])
    }
}

/// Upscaler files are found under realesrgan/ in every format, not only ncnn's.
final class UpscalerCatalogTests: XCTestCase {
    func testSafetensorsAndPthUnderRealesrganResolve() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(getpid())-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/realesrgan", withIntermediateDirectories: true)
        for file in ["/realesrgan/a.safetensors", "/realesrgan/b.pth", "/realesrgan/c.param"] {
            FileManager.default.createFile(atPath: root + file, contents: Data([0]))
        }
        XCTAssertEqual(UpscalerCatalog.resolve("a", in: root), root + "/realesrgan/a.safetensors")
        XCTAssertEqual(UpscalerCatalog.resolve("b", in: root), root + "/realesrgan/b.pth")
        XCTAssertEqual(UpscalerCatalog.resolve("c", in: root), root + "/realesrgan/c.param")
        XCTAssertEqual(UpscalerCatalog.available(in: root), ["a", "b", "c"])
    }
}
