import Foundation
import Models
import Tensor
import Weights
import XCTest

/// `ModelProbe.describe` on every SDXL fixture file and folder: family, prediction type, inpainting.
final class SDXLProbeTests: XCTestCase {
    static var root: String { SDFixtures.root + "/../sdxl" }

    static let entries: [(model: String, file: String, layout: ModelDescription.Layout, dtypes: [DType])] = [
        ("base", "diffusers", .diffusers, [.f32]), ("base", "single.fp16.safetensors", .safetensors, [.f16]),
        ("base", "single-hfclipg.safetensors", .safetensors, [.f16, .f32]),
        ("base", "single.ckpt", .ckpt, [.f16]),
        ("refiner", "diffusers", .diffusers, [.f32]), ("refiner", "single.fp16.safetensors", .safetensors, [.f16]),
        ("refiner", "single.bf16.safetensors", .safetensors, [.bf16]),
        ("inpaint", "diffusers", .diffusers, [.f32]), ("inpaint", "single.fp16.safetensors", .safetensors, [.f16]),
    ]

    func testEverySDXLFixtureIsDescribed() throws {
        for (model, file, layout, dtypes) in Self.entries {
            let label = "\(model)/\(file)"
            let description = try ModelProbe.describe(path: Self.root + "/\(model)/\(file)")
            XCTAssertEqual(description.kind, .stableDiffusion, label)
            XCTAssertEqual(description.layout, layout, label)
            XCTAssertEqual(description.dtypes, dtypes, label)
            let sd = try XCTUnwrap(description.stableDiffusion, label)
            XCTAssertEqual(sd.family, model == "refiner" ? .sdxlRefiner : .sdxl, label)
            XCTAssertEqual(sd.predictionType, .epsilon, label)
            XCTAssertEqual(sd.isInpainting, model == "inpaint", label)
        }
    }

    func testSidecarYAMLSaysV() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sdxl-probe-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/xl.safetensors"
        try FileManager.default.copyItem(atPath: Self.root + "/base/single.fp16.safetensors", toPath: path)
        try "model:\n  params:\n    parameterization: \"v\"\n".write(toFile: dir + "/xl.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try ModelProbe.describe(path: path).stableDiffusion?.predictionType, .vPrediction)
    }

    func testStrayTensorIsRefusedByName() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sdxl-stray-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = try SafeTensorsFile(path: Self.root + "/refiner/single.fp16.safetensors")
        var writer = SafeTensorsWriter()
        for name in file.names { try writer.add(name, try file.tensor(name)) }
        let stray = "conditioner.embedders.0.model.transformer.resblocks.0.extra"
        try writer.add(stray, Tensor(shape: [2]))
        let path = dir + "/stray.safetensors"
        try writer.write(to: path)
        XCTAssertThrowsError(try ModelProbe.describe(path: path)) { error in
            XCTAssertTrue("\(error)".contains(stray), "\(error)")
        }
    }
}
