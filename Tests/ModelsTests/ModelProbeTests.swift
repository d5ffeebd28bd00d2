import Foundation
import Models
import Tensor
import Weights
import XCTest

/// `ModelProbe.describe` on every committed fixture layout, the real upscalers, and broken files.
final class ModelProbeTests: XCTestCase {
    static let layouts: [(file: String, layout: ModelDescription.Layout)] =
        [("diffusers", .diffusers), ("single.safetensors", .safetensors), ("single.ckpt", .ckpt)]

    func testStableDiffusionFixturesInEveryLayout() throws {
        for family in SDFixtures.families {
            for (file, layout) in Self.layouts {
                let label = "\(family)/\(file)"
                let description = try ModelProbe.describe(path: SDFixtures.path(family, file))
                XCTAssertEqual(description.kind, .stableDiffusion, label)
                XCTAssertEqual(description.layout, layout, label)
                XCTAssertEqual(description.dtypes, [.f32], label)
                let sd = try XCTUnwrap(description.stableDiffusion, label)
                XCTAssertEqual(sd.family, family == "sd2v" ? .sd2 : .sd1, label)
                XCTAssertEqual(sd.predictionType, family == "sd2v" ? .vPrediction : .epsilon, label)
                XCTAssertEqual(sd.unetInChannels, family == "sd1-inpaint" ? 9 : 4, label)
                XCTAssertEqual(sd.isInpainting, family == "sd1-inpaint", label)
                XCTAssertNil(description.upscaler, label)
            }
        }
    }

    func testDescriptionAgreesWithLoading() throws {
        for family in SDFixtures.families {
            for (file, _) in Self.layouts {
                let path = SDFixtures.path(family, file)
                let loaded = try ModelFiles.load(path: path, options: CheckpointOptions(conventions: try SDFixtures.conventions(family)))
                let sd = try XCTUnwrap(try ModelProbe.describe(path: path).stableDiffusion)
                XCTAssertEqual(sd.predictionType, loaded.predictionType, "\(family)/\(file)")
                XCTAssertEqual(sd.unetInChannels, loaded.unet.config.inChannels, "\(family)/\(file)")
            }
        }
    }

    func testSidecarYAMLDecidesPredictionLikeLoading() throws {
        let dir = try temporaryDirectory()
        for (family, yaml, expected) in [("sd1", "  parameterization: \"v\"\n", PredictionType.vPrediction),
                                         ("sd2v", "model:\n  target: ldm\n", .epsilon)] {
            let path = dir + "/\(family).safetensors"
            try FileManager.default.copyItem(atPath: SDFixtures.path(family, "single.safetensors"), toPath: path)
            try yaml.write(toFile: dir + "/\(family).yaml", atomically: true, encoding: .utf8)
            XCTAssertEqual(try ModelProbe.describe(path: path).stableDiffusion?.predictionType, expected, family)
        }
    }

    func testFixtureUpscalersMatchLoading() throws {
        let root = SDFixtures.root + "/../upscale"
        for (file, layout) in [("tiny_compact.pth", ModelDescription.Layout.ckpt), ("tiny_compact.safetensors", .safetensors)] {
            try assertUpscalerMatchesLoad(root + "/" + file, layout: layout)
        }
    }

    func testRealESRGANModels() throws {
        let folder = SDFixtures.root + "/../../../models/realesrgan"
        let params = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".param") }
        guard !params.isEmpty else { throw XCTSkip("no models/realesrgan (run ./scripts/setup.sh)") }
        let expected: [String: (String, Double)] = [
            "realesr-animevideov3-x2": ("SRVGGNetCompact", 2), "realesr-animevideov3-x3": ("SRVGGNetCompact", 3),
            "realesr-animevideov3-x4": ("SRVGGNetCompact", 4), "realesrgan-x4plus": ("RRDBNet", 4),
            "realesrgan-x4plus-anime": ("RRDBNet", 4),
        ]
        for param in params.sorted() {
            let path = folder + "/" + param
            let description = try assertUpscalerMatchesLoad(path, layout: .ncnn)
            if let (architecture, scale) = expected[(param as NSString).deletingPathExtension] {
                XCTAssertEqual(description.upscaler?.architecture, architecture, param)
                XCTAssertEqual(description.upscaler?.scale, scale, param)
                XCTAssertEqual(description.upscaler?.networkScale, 4, param)
            }
        }
    }

    @discardableResult
    func assertUpscalerMatchesLoad(_ path: String, layout: ModelDescription.Layout,
                                   file: StaticString = #filePath, line: UInt = #line) throws -> ModelDescription {
        let description = try ModelProbe.describe(path: path)
        let loaded = try UpscalerModel.load(path: path)
        XCTAssertEqual(description.kind, .upscaler, path, file: file, line: line)
        XCTAssertEqual(description.layout, layout, path, file: file, line: line)
        XCTAssertFalse(description.dtypes.isEmpty, path, file: file, line: line)
        let upscaler = try XCTUnwrap(description.upscaler, path, file: file, line: line)
        XCTAssertEqual(upscaler.architecture, loaded.architecture, path, file: file, line: line)
        XCTAssertEqual(upscaler.networkScale, loaded.network.scale, path, file: file, line: line)
        XCTAssertEqual(upscaler.scale, loaded.declaredScale, path, file: file, line: line)
        return description
    }

    // MARK: Broken files

    func testTruncatedFilesAreRefusedWithTheirPath() throws {
        let dir = try temporaryDirectory()
        for file in ["single.safetensors", "single.ckpt"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: SDFixtures.path("sd1", file)))
            for keep in [0, 7, 100, data.count / 2, data.count - 1] {
                let path = dir + "/cut-\(keep)-" + file
                try data.prefix(keep).write(to: URL(fileURLWithPath: path))
                assertRefused(path) { error in
                    guard case .unreadable(let p, _)? = error as? CheckpointError else {
                        return XCTFail("\(path): \(error)")
                    }
                    XCTAssertEqual(p, path)
                }
            }
        }
    }

    func testCorruptCheckpointsAreRefusedNotCrashed() throws {
        let folder = SDFixtures.root + "/../weights/ckpt_corrupt"
        for file in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
            assertRefused(folder + "/" + file) { XCTAssertTrue($0 is CheckpointError, "\(file): \($0)") }
        }
    }

    func testSingleFileWithStrayTensorIsRefusedByName() throws {
        let source = try SafeTensorsFile(path: SDFixtures.path("sd1", "single.safetensors"))
        // Float tensors only: the writer stores F32/F16/BF16 (the int64 position_ids is optional anyway).
        let floats = source.names.filter { source.dtype(of: $0)?.convertibleToFloat32 == true }
        var tensors = try floats.map { ($0, try source.tensor($0)) }
        tensors.append(("model.diffusion_model.stray.weight", try source.tensor("model.diffusion_model.out.2.bias")))
        let path = try temporaryDirectory() + "/stray.safetensors"
        try write(tensors, to: path)
        assertRefused(path) { error in
            XCTAssertEqual(String(describing: error),
                           "\(path): unet: checkpoint has 1 unexpected tensor(s): model.diffusion_model.stray.weight")
        }
    }

    func testBrokenDiffusersConfigIsRefused() throws {
        let folder = try temporaryDirectory() + "/model"
        try FileManager.default.copyItem(atPath: SDFixtures.path("sd1", "diffusers"), toPath: folder)
        try "{\"in_channels\": ".write(toFile: folder + "/unet/config.json", atomically: true, encoding: .utf8)
        assertRefused(folder) { error in
            guard case .invalidJSON(let p, _)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(p, folder + "/unet/config.json")
        }
    }

    func testBrokenNCNNModelsAreRefused() throws {
        let real = SDFixtures.root + "/../../../models/realesrgan/realesr-animevideov3-x4"
        guard FileManager.default.fileExists(atPath: real + ".param") else { throw XCTSkip("no models/realesrgan") }
        let dir = try temporaryDirectory()
        let param = try Data(contentsOf: URL(fileURLWithPath: real + ".param"))
        let bin = try Data(contentsOf: URL(fileURLWithPath: real + ".bin"))

        try param.write(to: URL(fileURLWithPath: dir + "/lonely.param"))
        assertRefused(dir + "/lonely.param") { error in
            XCTAssertEqual(error as? UpscalerLoadError, .missingCompanion(path: dir + "/lonely.param", expected: dir + "/lonely.bin"))
        }
        try param.write(to: URL(fileURLWithPath: dir + "/short.param"))
        try bin.prefix(bin.count - 10).write(to: URL(fileURLWithPath: dir + "/short.bin"))
        assertRefused(dir + "/short.param") { error in
            guard case .invalidNCNNBin? = error as? WeightsError else { return XCTFail("\(error)") }
        }
        try param.prefix(param.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.param"))
        try bin.write(to: URL(fileURLWithPath: dir + "/cut.bin"))
        assertRefused(dir + "/cut.param") { error in
            guard case .invalidNCNNParam? = error as? WeightsError else { return XCTFail("\(error)") }
        }
    }

    func testZeroChannelUpscalerIsRefusedNotCrashed() throws {
        let path = try temporaryDirectory() + "/zero.safetensors"
        try write([("body.0.weight", Tensor(shape: [4, 0, 3, 3], repeating: 0)),
                                     ("body.1.weight", Tensor(shape: [4], repeating: 0)),
                                     ("body.2.weight", Tensor(shape: [12, 4, 3, 3], repeating: 0))], to: path)
        assertRefused(path) { XCTAssertTrue($0 is ModelLoadError, "\($0)") }
    }

    func testOtherFilesAreRefused() throws {
        let dir = try temporaryDirectory()
        assertRefused(dir + "/absent.safetensors") { XCTAssertEqual("\($0)", "no such file or folder: \(dir)/absent.safetensors") }
        try "x".write(toFile: dir + "/notes.txt", atomically: true, encoding: .utf8)
        assertRefused(dir + "/notes.txt") { error in
            guard case .unsupportedFile? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
        assertRefused(dir) { error in
            guard case .missingFile? = error as? CheckpointError else { return XCTFail("\(error)") }
        }
    }

    func testHalfPrecisionFileReportsItsStoredType() throws {
        let path = try temporaryDirectory() + "/half.safetensors"
        try SafeTensorsWriter.convert(try SafeTensorsFile(path: SDFixtures.path("sd2v", "single.safetensors")), to: path, as: .f16)
        let description = try ModelProbe.describe(path: path)
        XCTAssertEqual(description.dtypes, [.f16])
        XCTAssertEqual(description.stableDiffusion?.family, .sd2)
    }

    func write(_ tensors: [(String, Tensor)], to path: String) throws {
        var writer = SafeTensorsWriter()
        for (name, tensor) in tensors { try writer.add(name, tensor) }
        try writer.write(to: path)
    }

    func assertRefused(_ path: String, file: StaticString = #filePath, line: UInt = #line, _ check: (Error) -> Void) {
        XCTAssertThrowsError(try ModelProbe.describe(path: path), path, file: file, line: line, check)
    }

    func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }
}
