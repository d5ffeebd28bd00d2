import Foundation
import Sampling
import StrictJSON
import Weights

/// Loads a diffusers pipeline folder (`model_index.json`, `unet/`, `vae/`, `text_encoder/`, `tokenizer/`,
/// `scheduler/`).
enum DiffusersFolder {
    static func isFolder(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model_index.json"))
    }

    static func load(_ path: String, options: CheckpointOptions) throws -> StableDiffusionModels {
        let root = path as NSString
        let textEncoderDir = root.appendingPathComponent("text_encoder")
        let unetDir = root.appendingPathComponent("unet")
        let vaeDir = root.appendingPathComponent("vae")

        let textConfig: CLIPTextConfig = try decodeJSON((textEncoderDir as NSString).appendingPathComponent("config.json"))
        let textWeights = try openWeights(in: textEncoderDir, stem: "model", legacyStem: "pytorch_model",
                                          variant: options.variant)
        let textEncoder = try component("text_encoder", textWeights.path) {
            try CLIPTextEncoder(config: textConfig, weights: textWeights.source)
        }

        let unetConfig: UNetConfig = try decodeJSON((unetDir as NSString).appendingPathComponent("config.json"))
        let unetWeights = try openWeights(in: unetDir, stem: "diffusion_pytorch_model",
                                          legacyStem: "diffusion_pytorch_model", variant: options.variant)
        let unet = try component("unet", unetWeights.path) { try UNet(config: unetConfig, weights: unetWeights.source) }

        let vaeConfig: VAEConfig = try decodeJSON((vaeDir as NSString).appendingPathComponent("config.json"))
        let vaeWeights = try openWeights(in: vaeDir, stem: "diffusion_pytorch_model",
                                         legacyStem: "diffusion_pytorch_model", variant: options.variant)
        let vae = try component("vae", vaeWeights.path) {
            try VAE(config: vaeConfig, weights: LegacyVAEAttentionNames(vaeWeights.source))
        }

        var scheduler: SchedulerConfig = try decodeJSON(
            root.appendingPathComponent("scheduler/scheduler_config.json"))
        if let override = options.predictionType { scheduler.predictionType = override }

        // A folder without tokenizer files gets the standard vocabulary with its family's special tokens.
        let tokenizerDir = root.appendingPathComponent("tokenizer")
        let hasVocabulary = FileManager.default.fileExists(atPath: (tokenizerDir as NSString).appendingPathComponent("vocab.json"))
            && FileManager.default.fileExists(atPath: (tokenizerDir as NSString).appendingPathComponent("merges.txt"))
        let tokenizer: TokenizerFiles
        if hasVocabulary {
            tokenizer = .folder(path: tokenizerDir)
        } else {
            tokenizer = .standard(CLIPSpecialTokens(try family(path, text: textConfig, unet: unetConfig).tokenizer))
        }

        return StableDiffusionModels(textEncoder: textEncoder, unet: unet, vae: vae, scheduler: scheduler,
                                     tokenizer: tokenizer, layout: .diffusersFolder(path: path))
    }

    /// The folder's family, from its text encoder and UNet configs.
    static func family(_ path: String, text: CLIPTextConfig?, unet: UNetConfig) throws -> any ModelFamily {
        do {
            return try ModelFamilies.recognise(folder: DiffusersFolderSummary(text: text, unet: unet))
        } catch let error as NameMappingError {
            throw CheckpointError.unrecognised(path: path, reason: error.description)
        }
    }

    /// The component's weights file: the requested variant first, then the plain safetensors, then the
    /// legacy pickle (`*.bin`), then (no variant requested) an fp16 safetensors if that is all there is.
    static func openWeights(in directory: String, stem: String, legacyStem: String,
                            variant: String?) throws -> (source: TensorSource, path: String) {
        var candidates: [String] = []
        if let variant { candidates.append("\(stem).\(variant).safetensors") }
        candidates.append("\(stem).safetensors")
        if let variant { candidates.append("\(legacyStem).\(variant).bin") }
        candidates.append("\(legacyStem).bin")
        if variant == nil { candidates.append("\(stem).fp16.safetensors") }
        let directoryNS = directory as NSString
        for name in candidates {
            let path = directoryNS.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path) else { continue }
            return (try WeightFiles.open(path), path)
        }
        if FileManager.default.fileExists(atPath: directoryNS.appendingPathComponent("\(stem).safetensors.index.json")) {
            throw CheckpointError.unreadable(path: directory, reason: "sharded weights (*.index.json) are not supported")
        }
        throw CheckpointError.missingFile(path: directoryNS.appendingPathComponent("\(stem).safetensors"))
    }

    /// A config file through the strict parser; every failure names the file and, past parsing, the field.
    static func decodeJSON<T: Decodable>(_ path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.missingFile(path: path)
        }
        do {
            return try JSONValueDecoder().decode(T.self, from: JSONParser.parse([UInt8](data)))
        } catch let error as SamplingError {
            throw CheckpointError.unsupportedConfig(path: path, reason: error.description)
        } catch {
            throw CheckpointError.invalidJSON(path: path, reason: String(describing: error))
        }
    }
}

/// Runs a network initialiser, tagging its strict-loading failure with the component and file.
func component<T>(_ name: String, _ path: String, _ build: () throws -> T) throws -> T {
    do {
        return try build()
    } catch let error as ModelLoadError {
        throw CheckpointError.component(name: name, path: path, error: error)
    }
}

extension DiffusersFolderSummary {
    init(text: CLIPTextConfig?, unet: UNetConfig) {
        let crossAttention: Int?
        switch unet.crossAttentionDim {
        case let .single(width): crossAttention = width
        case let .perBlock(widths): crossAttention = widths.first
        }
        self.init(textEncoderHiddenAct: text?.hiddenAct, unetCrossAttentionDim: crossAttention)
    }
}
