import Foundation
import Tensor
@testable import Weights
import XCTest

/// Real SDXL 1.0 base and refiner structures (names and shapes from diffusers on the meta device, see
/// scripts/fixtures/make_sdxl_shapes.py): 3 levels with transformer depths 0/2/10 (base) or 4 levels of
/// depth 4 (refiner), 12-layer CLIP-L and 32-layer bigG. Detection runs with SDXL's own conventions.
final class SDXLFullSizeMappingTests: XCTestCase {
    struct Shapes: Decodable {
        let ldm: [String: [Int]]
        let unet: [String: [Int]]
        let vae: [String: [Int]]
        let text_encoder: [String: [Int]]?
        let text_encoder_2: [String: [Int]]
    }

    /// The fixture writes a run `...{a..b}...` once; every index in it is its own tensor.
    static func expand(_ shapes: [String: [Int]]) throws -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for (name, shape) in shapes {
            guard let open = name.firstIndex(of: "{"), let close = name.firstIndex(of: "}") else {
                out[name] = shape
                continue
            }
            let bounds = name[name.index(after: open)..<close].components(separatedBy: "..").compactMap { Int($0) }
            guard bounds.count == 2 else { throw WeightsError.invalidTensorName(name: name, detail: "bad range") }
            for i in bounds[0]...bounds[1] {
                out[String(name[..<open]) + String(i) + String(name[name.index(after: close)...])] = shape
            }
        }
        return out
    }

    func load(_ name: String) throws -> (Shapes, [String: Any]) {
        let url = Fixtures.repo.appendingPathComponent("Tests/Fixtures/sd/shapes/\(name).json")
        let data = try Data(contentsOf: url)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let raw = try JSONDecoder().decode(Shapes.self, from: data)
        let shapes = Shapes(ldm: try Self.expand(raw.ldm), unet: try Self.expand(raw.unet), vae: try Self.expand(raw.vae),
                            text_encoder: try raw.text_encoder.map(Self.expand),
                            text_encoder_2: try Self.expand(raw.text_encoder_2))
        return (shapes, try XCTUnwrap(json["config"] as? [String: Any]))
    }

    func assertShapes(_ mapped: MappedTensorSource, _ expected: [String: [Int]], _ label: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(mapped.names, expected.keys.sorted(), "\(label): names", file: file, line: line)
        for (name, shape) in expected where mapped.shape(of: name) != shape {
            XCTFail("\(label): \(name) mapped \(String(describing: mapped.shape(of: name))), diffusers \(shape)",
                    file: file, line: line)
        }
    }

    func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]), as: UTF8.self)
    }

    func assertConfig(_ detected: [String: Any], _ expected: [String: Any], _ label: String) throws {
        for (key, value) in detected where key != "transformer_layers_per_block" {
            let reference = try XCTUnwrap(expected[key], "\(label): \(key) missing")
            XCTAssertEqual(try canonical(value), try canonical(reference), "\(label): \(key)")
        }
    }

    func testRealSDXLMapsAndDetects() throws {
        for (name, id) in [("sdxl_base", ModelFamilyID.sdxl), ("sdxl_refiner", .sdxlRefiner)] {
            let (shapes, config) = try load(name)
            let source = ShapeOnlySource(shapes.ldm)
            let family = try ModelFamilies.recognise(singleFile: source)
            XCTAssertEqual(family.id, id, name)
            assertShapes(try family.diffusersView(of: .unet, in: source), shapes.unet, "\(name) unet")
            assertShapes(try family.diffusersView(of: .vae, in: source), shapes.vae, "\(name) vae")
            assertShapes(try family.diffusersView(of: .textEncoder2, in: source), shapes.text_encoder_2, "\(name) text_encoder_2")
            if let textEncoder = shapes.text_encoder {
                assertShapes(try family.diffusersView(of: .textEncoder, in: source), textEncoder, "\(name) text_encoder")
            }

            let arch = try SingleFileArchitecture.detect(source)
            XCTAssertEqual(arch.family, id, name)
            XCTAssertFalse(arch.isInpainting, name)
            let unetConfig = try XCTUnwrap(config["unet"] as? [String: Any])
            try assertConfig(arch.unet.diffusersConfig, unetConfig, "\(name) unet")
            // A level without attention has no transformers: its depth in a config means nothing unless it is
            // the last (diffusers builds the mid block with that one). Compared where it means something.
            let levels = arch.unet.blockOutChannels.count
            let published = try (unetConfig["transformer_layers_per_block"] as? [Int])
                ?? Array(repeating: try XCTUnwrap(unetConfig["transformer_layers_per_block"] as? Int), count: levels)
            for level in 0..<levels where arch.unet.downBlockTypes[level] == "CrossAttnDownBlock2D" || level == levels - 1 {
                XCTAssertEqual(arch.unet.transformerLayersPerBlock[level], published[level], "\(name) level \(level) depth")
            }
            try assertConfig(try XCTUnwrap(arch.vae).diffusersConfig, try XCTUnwrap(config["vae"] as? [String: Any]), "\(name) vae")
            try assertConfig(try XCTUnwrap(arch.textEncoder2).diffusersConfig,
                             try XCTUnwrap(config["text_encoder_2"] as? [String: Any]), "\(name) text_encoder_2")
            if id == .sdxl {
                try assertConfig(try XCTUnwrap(arch.textEncoder).diffusersConfig,
                                 try XCTUnwrap(config["text_encoder"] as? [String: Any]), "\(name) text_encoder")
            } else {
                XCTAssertNil(arch.textEncoder, name)
            }
        }
    }

    func testRealSDXLInpaintingUNetIsDetected() throws {
        let (shapes, _) = try load("sdxl_base")
        var ldm = shapes.ldm
        ldm["model.diffusion_model.input_blocks.0.0.weight"] = [320, 9, 3, 3]
        let arch = try SingleFileArchitecture.detect(ShapeOnlySource(ldm))
        XCTAssertEqual(arch.family, .sdxl)
        XCTAssertTrue(arch.isInpainting)
        XCTAssertEqual(try SDXLFamily().diffusersView(of: .unet, in: ShapeOnlySource(ldm)).shape(of: "conv_in.weight"),
                       [320, 9, 3, 3])
    }
}
