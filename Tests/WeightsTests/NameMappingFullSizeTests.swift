import Foundation
import Tensor
@testable import Weights
import XCTest

/// Real SD 1.5 and 2.1 structures (names and shapes from diffusers on the meta device, see
/// make_sd_fixtures.py): the tiny families have 2 levels and 1 layer per block, these have 4 levels,
/// 2 layers, upsamplers behind attention blocks and 12/24 text layers. Detection runs with Stable
/// Diffusion's own conventions.
final class NameMappingFullSizeTests: XCTestCase {
    struct Shapes: Decodable {
        let ldm: [String: [Int]]
        let unet: [String: [Int]]
        let vae: [String: [Int]]
        let text_encoder: [String: [Int]]
    }

    func load(_ name: String) throws -> (Shapes, [String: Any]) {
        let url = Fixtures.repo.appendingPathComponent("Tests/Fixtures/sd/shapes/\(name).json")
        let data = try Data(contentsOf: url)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (try JSONDecoder().decode(Shapes.self, from: data), try XCTUnwrap(json["config"] as? [String: Any]))
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

    func assertConfig(_ detected: [String: Any], _ expected: [String: Any], _ label: String,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        for (key, value) in detected {
            let reference = try XCTUnwrap(expected[key], "\(label): \(key) missing", file: file, line: line)
            XCTAssertEqual(try canonical(value), try canonical(reference), "\(label): \(key)", file: file, line: line)
        }
    }

    func testRealArchitecturesMapAndDetect() throws {
        for (name, family) in [("sd15", SingleFileArchitecture.Family.sd1), ("sd21", .sd2)] {
            let (shapes, config) = try load(name)
            let source = ShapeOnlySource(shapes.ldm)
            assertShapes(try LDMToDiffusers.unet(source), shapes.unet, "\(name) unet")
            assertShapes(try LDMToDiffusers.vae(source), shapes.vae, "\(name) vae")
            assertShapes(try LDMToDiffusers.textEncoder(source), shapes.text_encoder, "\(name) text encoder")

            let arch = try SingleFileArchitecture.detect(source)
            XCTAssertEqual(arch.family, family, name)
            XCTAssertFalse(arch.isInpainting, name)
            try assertConfig(arch.unet.diffusersConfig, try XCTUnwrap(config["unet"] as? [String: Any]), "\(name) unet")
            try assertConfig(try XCTUnwrap(arch.vae).diffusersConfig, try XCTUnwrap(config["vae"] as? [String: Any]),
                             "\(name) vae")
            let text = try XCTUnwrap(arch.textEncoder)
            try assertConfig(text.diffusersConfig, try XCTUnwrap(config["text_encoder"] as? [String: Any]),
                             "\(name) text encoder")
            XCTAssertEqual(text.storedLayers, family == .sd2 ? 24 : 12, name)
        }
    }

    func testRealInpaintingUNetIsDetected() throws {
        let (shapes, _) = try load("sd15")
        var ldm = shapes.ldm
        ldm["model.diffusion_model.input_blocks.0.0.weight"] = [320, 9, 3, 3]
        let arch = try SingleFileArchitecture.detect(ShapeOnlySource(ldm))
        XCTAssertTrue(arch.isInpainting)
        XCTAssertEqual(arch.unet.inChannels, 9)
        XCTAssertEqual(try LDMToDiffusers.unet(ShapeOnlySource(ldm)).shape(of: "conv_in.weight"), [320, 9, 3, 3])
    }
}

/// Names and shapes without data: enough for mapping and detection, which never read tensors.
struct ShapeOnlySource: TensorSource {
    let shapes: [String: [Int]]
    let names: [String]

    init(_ shapes: [String: [Int]]) {
        self.shapes = shapes
        self.names = shapes.keys.sorted()
    }

    func shape(of name: String) -> [Int]? { shapes[name] }

    func tensor(_ name: String) throws -> Tensor {
        throw WeightsError.tensorNotFound(path: "<shapes only>", tensor: name)
    }
}
