import Engine
import Foundation
import Imaging
import Models
import Tensor
import Weights

/// The tiny SDXL fixtures (Tests/Fixtures/sdxl, scripts/fixtures/make_sdxl_fixtures.py) as the conditioning
/// tests read them: the base folder's two encoders and tokenizers, the encoder references and the pipeline
/// cases' parameters.
enum SDXLConditioningFixtures {
    static let root = PipelineFixtures.root.appendingPathComponent("sdxl")
    static var baseFolder: URL { root.appendingPathComponent("base/diffusers") }

    static func encoder(_ folder: String) throws -> CLIPTextEncoder {
        let dir = baseFolder.appendingPathComponent(folder)
        let config = try JSONDecoder().decode(CLIPTextConfig.self,
                                              from: Data(contentsOf: dir.appendingPathComponent("config.json")))
        return try CLIPTextEncoder(config: config,
                                   weights: try SafeTensorsFile(path: dir.appendingPathComponent("model.safetensors").path))
    }

    static func tokenizer(_ folder: String) throws -> CLIPTokenizer {
        try CLIPTokenizer(folder: baseFolder.appendingPathComponent(folder))
    }

    /// Base (both encoders, six size ids) or refiner (the second encoder only, aesthetic score); the encoder
    /// weights are shared by the fixture models, as real SDXL shares bigG.
    static func conditioner(refiner: Bool = false, forceZeros: Bool = true, commaBacktrack: Int = 20) throws -> SDXLConditioner {
        try SDXLConditioner(textEncoder: refiner ? nil : try encoder("text_encoder"),
                            tokenizer: refiner ? nil : try tokenizer("tokenizer"),
                            textEncoder2: try encoder("text_encoder_2"), tokenizer2: try tokenizer("tokenizer_2"),
                            forceZerosForEmptyPrompt: forceZeros, timeIDLayout: refiner ? .aestheticScore : .sizes,
                            commaBacktrack: commaBacktrack)
    }

    static func reference() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: root.appendingPathComponent("base/reference.safetensors").path)
    }

    static func pipelineReferences() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: root.appendingPathComponent("pipeline/cases.safetensors").path)
    }

    /// pipeline/cases.json, as dictionaries (each test reads the members it needs).
    static func cases() throws -> [[String: Any]] {
        let data = try Data(contentsOf: root.appendingPathComponent("pipeline/cases.json"))
        return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    }

    /// A case's (height, width) pair as diffusers takes it.
    static func size(_ value: Any?) -> ImageSize? {
        guard let pair = value as? [Int], pair.count == 2 else { return nil }
        return ImageSize(width: pair[1], height: pair[0])
    }

    static func crop(_ value: Any?) -> CropCoordinates? {
        guard let pair = value as? [Int], pair.count == 2 else { return nil }
        return CropCoordinates(top: pair[0], left: pair[1])
    }

    /// The micro-conditioning a case gave diffusers (aesthetic scores: the pipeline defaults when absent).
    static func micro(_ c: [String: Any]) -> MicroConditioning {
        var m = MicroConditioning(originalSize: size(c["original_size"]), targetSize: size(c["target_size"]),
                                  negativeOriginalSize: size(c["negative_original_size"]),
                                  negativeTargetSize: size(c["negative_target_size"]),
                                  negativeCropsCoordsTopLeft: crop(c["negative_crops_coords_top_left"]))
        if let crop = crop(c["crops_coords_top_left"]) { m.cropsCoordsTopLeft = crop }
        if let score = (c["aesthetic_score"] as? NSNumber)?.doubleValue { m.aestheticScore = score }
        if let score = (c["negative_aesthetic_score"] as? NSNumber)?.doubleValue { m.negativeAestheticScore = score }
        return m
    }
}
