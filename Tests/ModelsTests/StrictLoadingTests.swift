import Foundation
import Models
import Tensor
import Weights
import XCTest

/// Loading fails, naming the tensor, when a checkpoint lacks a tensor, holds one with the wrong shape,
/// or holds one no layer uses. Each case mutates an in-memory copy of a real fixture component.
final class StrictLoadingTests: XCTestCase {
    private func unetSource() throws -> (UNetConfig, InMemorySource) {
        let config = try SDFixtures.decode(UNetConfig.self, "sd1", "diffusers/unet/config.json")
        let file = try SafeTensorsFile(path: SDFixtures.path("sd1", "diffusers/unet/diffusion_pytorch_model.safetensors"))
        return (config, try InMemorySource(copying: file))
    }

    private func vaeSource() throws -> (VAEConfig, InMemorySource) {
        let config = try SDFixtures.decode(VAEConfig.self, "sd1", "diffusers/vae/config.json")
        let file = try SafeTensorsFile(path: SDFixtures.path("sd1", "diffusers/vae/diffusion_pytorch_model.safetensors"))
        return (config, try InMemorySource(copying: file))
    }

    private func textSource() throws -> (CLIPTextConfig, InMemorySource) {
        let config = try SDFixtures.decode(CLIPTextConfig.self, "sd1", "diffusers/text_encoder/config.json")
        let file = try SafeTensorsFile(path: SDFixtures.path("sd1", "diffusers/text_encoder/model.safetensors"))
        return (config, try InMemorySource(copying: file))
    }

    func testUnmodifiedSourcesLoad() throws {
        let (u, us) = try unetSource()
        XCTAssertNoThrow(try UNet(config: u, weights: us))
        let (v, vs) = try vaeSource()
        XCTAssertNoThrow(try VAE(config: v, weights: vs))
        let (t, ts) = try textSource()
        XCTAssertNoThrow(try CLIPTextEncoder(config: t, weights: ts))
    }

    func testMissingTensorIsNamed() throws {
        let (config, loadedSource) = try unetSource()
        var source = loadedSource
        let name = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"
        let shape = try XCTUnwrap(source.tensors.removeValue(forKey: name)).shape
        XCTAssertThrowsError(try UNet(config: config, weights: source)) { error in
            XCTAssertEqual(error as? ModelLoadError, .missingTensor(name: name, expectedShape: shape))
            XCTAssertTrue(String(describing: error).contains(name))
        }

        let (vaeConfig, loadedVae) = try vaeSource()
        var vae = loadedVae
        vae.tensors["decoder.mid_block.attentions.0.to_q.bias"] = nil
        XCTAssertThrowsError(try VAE(config: vaeConfig, weights: vae)) { error in
            XCTAssertEqual(error as? ModelLoadError,
                           .missingTensor(name: "decoder.mid_block.attentions.0.to_q.bias", expectedShape: [16]))
        }
        _ = config
    }

    func testMisShapedTensorIsNamed() throws {
        let (config, loadedSource) = try unetSource()
        var source = loadedSource
        let name = "up_blocks.1.resnets.0.conv1.weight"
        let original = try XCTUnwrap(source.tensors[name])
        var wrong = original.shape
        wrong[1] -= 1
        source.tensors[name] = Tensor(shape: wrong)
        XCTAssertThrowsError(try UNet(config: config, weights: source)) { error in
            XCTAssertEqual(error as? ModelLoadError, .shapeMismatch(name: name, expected: original.shape, found: wrong))
            XCTAssertTrue(String(describing: error).contains(name))
        }

        let (textConfig, loadedText) = try textSource()
        var text = loadedText
        text.tensors["text_model.final_layer_norm.weight"] = Tensor(shape: [31])
        XCTAssertThrowsError(try CLIPTextEncoder(config: textConfig, weights: text)) { error in
            XCTAssertEqual(error as? ModelLoadError,
                           .shapeMismatch(name: "text_model.final_layer_norm.weight", expected: [32], found: [31]))
        }
    }

    func testUnexpectedTensorIsNamed() throws {
        let (config, loadedSource) = try unetSource()
        var source = loadedSource
        source.tensors["down_blocks.0.resnets.0.extra.weight"] = Tensor(shape: [3])
        XCTAssertThrowsError(try UNet(config: config, weights: source)) { error in
            XCTAssertEqual(error as? ModelLoadError, .unexpectedTensors(names: ["down_blocks.0.resnets.0.extra.weight"]))
            XCTAssertTrue(String(describing: error).contains("down_blocks.0.resnets.0.extra.weight"))
        }

        // A deeper text encoder than its config says: the extra layer's tensors are unexpected.
        let (textConfig, loadedText) = try textSource()
        var text = loadedText
        text.tensors["text_model.encoder.layers.3.mlp.fc1.bias"] = Tensor(shape: [64])
        XCTAssertThrowsError(try CLIPTextEncoder(config: textConfig, weights: text)) { error in
            XCTAssertEqual(error as? ModelLoadError,
                           .unexpectedTensors(names: ["text_model.encoder.layers.3.mlp.fc1.bias"]))
        }
    }

    func testConfigThatDisagreesWithWeightsFails() throws {
        let (original, source) = try unetSource()
        var config = original
        config.useLinearProjection = true  // SD2 layout asked of SD1 (1×1 conv) weights
        XCTAssertThrowsError(try UNet(config: config, weights: source)) { error in
            guard case let .shapeMismatch(name, _, _)? = error as? ModelLoadError else {
                return XCTFail("expected a shape mismatch, got \(error)")
            }
            XCTAssertTrue(name.hasSuffix("proj_in.weight"), name)
        }
    }

    func testUnsupportedConfigIsNamed() throws {
        var config = UNetConfig()
        config.additionEmbedType = "text_time"  // SDXL
        XCTAssertThrowsError(try UNet(config: config, weights: InMemorySource([:]))) { error in
            XCTAssertEqual(error as? ModelLoadError, .unsupportedConfig(field: "addition_embed_type", value: "text_time"))
        }
    }

    func testNonsensicalConfigValuesAreErrorsNotTraps() throws {
        var unet = UNetConfig()
        unet.layersPerBlock = .single(-1)
        XCTAssertThrowsError(try UNet(config: unet, weights: InMemorySource([:]))) {
            XCTAssertEqual($0 as? ModelLoadError, .invalidConfig("layers_per_block must be ≥ 1, found -1"))
        }
        unet = UNetConfig()
        unet.attentionHeadDim = .perBlock([8, 8, 0, 8])
        XCTAssertThrowsError(try UNet(config: unet, weights: InMemorySource([:]))) {
            XCTAssertEqual($0 as? ModelLoadError, .invalidConfig("attention_head_dim must be ≥ 1, found 0"))
        }
        var vae = VAEConfig()
        vae.layersPerBlock = 0
        XCTAssertThrowsError(try VAE(config: vae, weights: InMemorySource([:]))) {
            XCTAssertEqual($0 as? ModelLoadError, .invalidConfig("layers_per_block must be ≥ 1, found 0"))
        }
        var text = CLIPTextConfig()
        text.numHiddenLayers = -3
        XCTAssertThrowsError(try CLIPTextEncoder(config: text, weights: InMemorySource([:]))) {
            XCTAssertEqual($0 as? ModelLoadError, .invalidConfig("num_hidden_layers must be ≥ 1, found -3"))
        }
    }

    func testFolderErrorsNameComponentAndFile() throws {
        // Copy the sd1 folder, drop one UNet tensor by rewriting its weights, and check the error chain.
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("models-strict-\(getpid())")
        try? FileManager.default.removeItem(at: temp)
        try FileManager.default.copyItem(atPath: SDFixtures.path("sd1", "diffusers"), toPath: temp.path)
        defer { try? FileManager.default.removeItem(at: temp) }
        let unetFile = temp.appendingPathComponent("unet/diffusion_pytorch_model.safetensors").path
        var source = try unetSource().1
        source.tensors["conv_out.bias"] = nil
        var writer = SafeTensorsWriter()
        for name in source.names { try writer.add(name, try source.tensor(name)) }
        try FileManager.default.removeItem(atPath: unetFile)
        try writer.write(to: unetFile)
        XCTAssertThrowsError(try ModelFiles.load(path: temp.path)) { error in
            guard case let .component(name, path, inner)? = error as? CheckpointError else {
                return XCTFail("expected a component error, got \(error)")
            }
            XCTAssertEqual(name, "unet")
            XCTAssertEqual(path, unetFile)
            XCTAssertEqual(inner, .missingTensor(name: "conv_out.bias", expectedShape: [4]))
        }
    }
}
