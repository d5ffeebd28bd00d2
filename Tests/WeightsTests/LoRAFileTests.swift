import Foundation
import Tensor
import Weights
import XCTest

/// Reading LoRA / LyCORIS files: every trainer's suffixes fold into one set of roles, alphas come from `.alpha`
/// tensors or PEFT's metadata (alpha_pattern, rsLoRA), and names and shapes alone tell family and type.
final class LoRAFileTests: XCTestCase {
    func write(_ tensors: [(String, [Int])], metadata: [String: String] = [:]) throws -> String {
        var writer = SafeTensorsWriter()
        writer.metadata = metadata
        for (name, shape) in tensors { try writer.add(name, Tensor(shape: shape, repeating: 0.5)) }
        let path = NSTemporaryDirectory() + "lora-file-\(UUID().uuidString).safetensors"
        try writer.write(to: path)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testPEFTMetadataAlphaPatternAndRSLoRA() throws {
        let metadata = ["lora_adapter_metadata": """
            {"unet.lora_alpha": 8, "unet.r": 4, "unet.alpha_pattern": {"attn2.to_k": 2}, "text_encoder.lora_alpha": 4,
             "text_encoder.use_rslora": true}
            """]
        let path = try write([
            ("unet.mid.attn1.to_k.lora_A.weight", [4, 8]), ("unet.mid.attn1.to_k.lora_B.weight", [8, 4]),
            ("unet.mid.attn2.to_k.lora_A.weight", [4, 8]), ("unet.mid.attn2.to_k.lora_B.weight", [8, 4]),
            ("text_encoder.layers.0.q_proj.lora_A.weight", [4, 8]), ("text_encoder.layers.0.q_proj.lora_B.weight", [8, 4]),
            ("unet.mid.attn1.to_v.lora_A.weight", [4, 8]), ("unet.mid.attn1.to_v.lora_B.weight", [8, 4]),
            ("unet.mid.attn1.to_v.alpha", []),
        ], metadata: metadata)
        let file = try LoRAFile(path: path)
        let alphas = Dictionary(uniqueKeysWithValues: file.modules.map { ($0.key, $0.alpha) })
        XCTAssertEqual(alphas["unet.mid.attn1.to_k"], 8)
        XCTAssertEqual(alphas["unet.mid.attn2.to_k"], 2, "alpha_pattern matches the module-name suffix")
        XCTAssertEqual(alphas["text_encoder.layers.0.q_proj"], 8, "rsLoRA: α/√r expressed as an alpha for α/r")
        XCTAssertEqual(alphas["unet.mid.attn1.to_v"], 0.5, "an .alpha tensor wins over the metadata")
    }

    func testSuffixesOfEveryTrainerFoldIntoRoles() {
        let cases: [(String, String, LoRATensorRole)] = [
            ("lora_unet_x.lora_down.weight", "lora_unet_x", .down), ("unet.x.lora_B.weight", "unet.x", .up),
            ("unet.x.attn1.processor.to_q_lora.down.weight", "unet.x.attn1.processor.to_q", .down),
            ("text_encoder.x.q_proj.lora_linear_layer.up.weight", "text_encoder.x.q_proj", .up),
            ("x.hada_w2_b", "x", .hadaW2B), ("x.lokr_w1", "x", .lokrW1), ("x.lokr_w1_a", "x", .lokrW1A),
            ("x.diff_b", "x", .diffBias), ("x.diff", "x", .diff), ("x.dora_scale", "x", .doraScale),
            ("x.lora_magnitude_vector", "x", .doraScale), ("x.alpha", "x", .alpha), ("x.lora_mid.weight", "x", .mid),
        ]
        for (name, module, role) in cases {
            let split = LoRATensorRole.split(name)
            XCTAssertEqual(split?.module, module, name)
            XCTAssertEqual(split?.role, role, name)
        }
        XCTAssertNil(LoRATensorRole.split("model.diffusion_model.out.2.weight"))
        XCTAssertNil(LoRATensorRole.split(".alpha"), "a suffix alone names no module")
    }

    func testHeaderTellsFamilyAndTypeFromShapes() throws {
        func header(_ tensors: [(String, [Int])]) throws -> LoRAHeader {
            LoRAHeader(source: try SafeTensorsFile(path: try write(tensors)))
        }
        let sd15 = try header([("lora_unet_a_attn2_to_k.lora_down.weight", [4, 768]), ("lora_unet_a_attn2_to_k.lora_up.weight", [320, 4])])
        XCTAssertEqual(sd15.family, .sd1)
        XCTAssertEqual(sd15.type, .lora)
        let sd2 = try header([("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", [4, 1024]),
                              ("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", [1024, 4])])
        XCTAssertEqual(sd2.family, .sd2)
        let xl = try header([("lora_unet_b_attn2_to_v.lora_down.weight", [4, 2048]), ("lora_unet_b_attn2_to_v.lora_up.weight", [640, 4]),
                             ("lora_unet_c_conv1.lora_down.weight", [4, 320, 3, 3]), ("lora_unet_c_conv1.lora_up.weight", [320, 4, 1, 1])])
        XCTAssertEqual(xl.family, .sdxl)
        XCTAssertEqual(xl.type, .locon)
        XCTAssertEqual(xl.modules, 2)
        let te2 = try header([("lora_te2_x.lora_down.weight", [1, 8]), ("lora_te2_x.lora_up.weight", [8, 1])])
        XCTAssertEqual(te2.family, .sdxl, "a second text encoder is SDXL's")
        let unknown = try header([("lora_unet_x.lokr_w1", [2, 2]), ("lora_unet_x.lokr_w2", [4, 4])])
        XCTAssertNil(unknown.family)
        XCTAssertEqual(unknown.type, .lokr)
    }
}
