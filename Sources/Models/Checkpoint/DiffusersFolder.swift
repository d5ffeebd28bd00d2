import Foundation
import Sampling
import StrictJSON
import Weights

/// Loads a diffusers pipeline folder (`model_index.json`, `unet/`, `vae/`, `scheduler/`, and the text
/// encoders with their tokenizers: `text_encoder/` + `tokenizer/`, SDXL's `text_encoder_2/` + `tokenizer_2/`).
enum DiffusersFolder {
    static func isFolder(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("model_index.json"))
    }

    static func load(_ path: String, options: CheckpointOptions) throws -> StableDiffusionModels {
        let root = path as NSString
        let index = try ModelIndex.read(root.appendingPathComponent("model_index.json"))
        let unetDir = root.appendingPathComponent("unet")
        let vaeDir = root.appendingPathComponent("vae")

        var encoders: [(slot: TextEncoderSlot, config: CLIPTextConfig, encoder: CLIPTextEncoder)] = []
        var recorded: [TextEncoderSlot: ComponentWeights] = [:]
        for slot in TextEncoderSlot.allCases where hasTextEncoder(slot, in: path, index: index) {
            let directory = root.appendingPathComponent(slot.rawValue)
            let config: CLIPTextConfig = try decodeJSON((directory as NSString).appendingPathComponent("config.json"))
            let weights = try openWeights(in: directory, stem: "model", legacyStem: "pytorch_model",
                                          variant: options.variant)
            let recording = RecordingSource(weights.source)
            let encoder = try component(slot.rawValue, weights.path) {
                try CLIPTextEncoder(config: config, weights: recording)
            }
            encoders.append((slot, config, encoder))
            recorded[slot] = recording.snapshot()
        }
        guard let first = encoders.first else {
            throw CheckpointError.missingFile(path: root.appendingPathComponent("text_encoder/config.json"))
        }

        let unetConfig: UNetConfig = try decodeJSON((unetDir as NSString).appendingPathComponent("config.json"))
        let unetWeights = try openWeights(in: unetDir, stem: "diffusion_pytorch_model",
                                          legacyStem: "diffusion_pytorch_model", variant: options.variant)
        let unetRecording = RecordingSource(unetWeights.source)
        let unet = try component("unet", unetWeights.path) { try UNet(config: unetConfig, weights: unetRecording) }

        let vaeConfig: VAEConfig = try decodeJSON((vaeDir as NSString).appendingPathComponent("config.json"))
        let vaeWeights = try openWeights(in: vaeDir, stem: "diffusion_pytorch_model",
                                         legacyStem: "diffusion_pytorch_model", variant: options.variant)
        let vae = try component("vae", vaeWeights.path) {
            try VAE(config: vaeConfig, weights: LegacyVAEAttentionNames(vaeWeights.source))
        }

        var scheduler: SchedulerConfig = try decodeJSON(
            root.appendingPathComponent("scheduler/scheduler_config.json"))
        if let override = options.predictionType { scheduler.predictionType = override }

        let textEncoders = try encoders.map { entry in
            LoadedTextEncoder(slot: entry.slot, encoder: entry.encoder, tokenizer: try tokenizer(
                for: entry.slot, in: path, family: { try family(path, text: first.config, unet: unetConfig) }))
        }
        var flags: PipelineFlags = unet.textTimeEmbedding == nil ? .none : .sdxlDefaults
        if let value = index.forceZerosForEmptyPrompt { flags.forceZerosForEmptyPrompt = value }
        if let value = index.requiresAestheticsScore { flags.requiresAestheticsScore = value }

        // Recognition only names the family here (for status and models.list); loading never depended on it.
        let recognised = try? family(path, text: first.config, unet: unetConfig)
        return StableDiffusionModels(textEncoders: textEncoders, unet: unet, vae: vae, scheduler: scheduler,
                                     layout: .diffusersFolder(path: path), flags: flags, family: recognised?.id,
                                     weights: NetworkWeights(unet: unetRecording.snapshot(), textEncoders: recorded))
    }

    /// Whether the folder has an encoder in `slot`: as `model_index.json` says (the SDXL refiner's
    /// `text_encoder` is null there); when it does not say, `text_encoder` is expected and
    /// `text_encoder_2` is loaded if its folder exists.
    static func hasTextEncoder(_ slot: TextEncoderSlot, in path: String, index: ModelIndex) -> Bool {
        switch index.component(slot.rawValue) {
        case .present: return true
        case .absent: return false
        case .unspecified:
            let config = ((path as NSString).appendingPathComponent(slot.rawValue) as NSString)
                .appendingPathComponent("config.json")
            return slot == .textEncoder || FileManager.default.fileExists(atPath: config)
        }
    }

    /// The slot's tokenizer folder when it has a vocabulary; otherwise the standard vocabulary with the
    /// special tokens of the family's first tokenizer, or (second slot) OpenCLIP's, as bigG's pads with "!".
    static func tokenizer(for slot: TextEncoderSlot, in path: String,
                          family: () throws -> any ModelFamily) throws -> TokenizerFiles {
        let directory = (path as NSString).appendingPathComponent(slot.tokenizerFolder) as NSString
        let hasVocabulary = FileManager.default.fileExists(atPath: directory.appendingPathComponent("vocab.json"))
            && FileManager.default.fileExists(atPath: directory.appendingPathComponent("merges.txt"))
        if hasVocabulary { return .folder(path: directory as String) }
        switch slot {
        case .textEncoder: return .standard(CLIPSpecialTokens(try family().tokenizer))
        case .textEncoder2: return .standard(CLIPSpecialTokens(.openCLIP))
        }
    }

    /// The folder's family, from its text encoder and UNet configs.
    static func family(_ path: String, text: CLIPTextConfig?, unet: UNetConfig) throws -> any ModelFamily {
        do {
            return try ModelFamilies.recognise(folder: try FolderSummaryReader.summary(of: path, text: text, unet: unet))
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
