import Foundation
import Sampling
import Weights

/// Loads an original (LDM layout) single-file checkpoint: detects the architecture from tensor names and
/// shapes, builds the diffusers configs from it, and reads each component through the LDM -> diffusers
/// name mapping (strict per component; tensors outside the three components, like the DDPM schedule
/// buffers or `model_ema.*`, belong to no network and are left alone).
enum SingleFileCheckpoint {
    static func load(_ path: String, options: CheckpointOptions) throws -> StableDiffusionModels {
        let file = try WeightFiles.open(path)
        let architecture: SingleFileArchitecture
        do {
            architecture = try SingleFileArchitecture.detect(file, conventions: options.conventions)
        } catch let error as NameMappingError {
            throw CheckpointError.unrecognised(path: path, reason: error.description)
        }
        guard let textArchitecture = architecture.textEncoder else {
            throw CheckpointError.unrecognised(path: path, reason: "no text encoder (cond_stage_model.*) tensors")
        }
        guard let vaeArchitecture = architecture.vae else {
            throw CheckpointError.unrecognised(path: path, reason: "no VAE (first_stage_model.*) tensors")
        }

        let textConfig = CLIPTextConfig(textArchitecture)
        let textSource = try mapped(path) { try LDMToDiffusers.textEncoder(file, openCLIPDepth: .penultimate) }
        let textEncoder = try component("text_encoder", path) {
            try CLIPTextEncoder(config: textConfig, weights: textSource)
        }

        let unetConfig = UNetConfig(architecture.unet)
        let unetSource = try mapped(path) { try LDMToDiffusers.unet(file) }
        let unet = try component("unet", path) { try UNet(config: unetConfig, weights: unetSource) }

        let vaeConfig = VAEConfig(vaeArchitecture)
        let vaeSource = try mapped(path) { try LDMToDiffusers.vae(file) }
        let vae = try component("vae", path) { try VAE(config: vaeConfig, weights: vaeSource) }

        var scheduler = SchedulerConfig()
        scheduler.predictionType = options.predictionType
            ?? sidecarPrediction(path)
            ?? defaultPrediction(architecture.family, file)

        let family = architecture.family.rawValue + (architecture.isInpainting ? "-inpaint" : "")
        return StableDiffusionModels(textEncoder: textEncoder, unet: unet, vae: vae, scheduler: scheduler,
                                     tokenizer: .standard(architecture.family == .sd2 ? .sd2 : .clip), layout: .singleFile(path: path, family: family))
    }

    /// The original LDM config users keep next to a checkpoint (`model.yaml` beside `model.safetensors`,
    /// as A1111 reads it): `parameterization: "v"` means v-prediction; a sidecar without the key means
    /// epsilon (LDM's default). Only that one key is read, by a line scan; nil when there is no sidecar.
    static func sidecarPrediction(_ path: String) -> SchedulerConfig.PredictionType? {
        let sidecar = (path as NSString).deletingPathExtension + ".yaml"
        guard let data = FileManager.default.contents(atPath: sidecar),
              let text = String(data: data, encoding: .utf8) else { return nil }
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("parameterization:") else { continue }
            let value = trimmed.dropFirst("parameterization:".count)
                .split(separator: "#", maxSplits: 1).first.map(String.init) ?? ""
            let cleaned = value.trimmingCharacters(in: CharacterSet(charactersIn: " \t\"'"))
            return cleaned == "v" ? .vPrediction : .epsilon
        }
        return .epsilon
    }

    /// SD1: epsilon. SD2: v-prediction (768-v), except a .ckpt saved at SD2-base's final step 875000.
    static func defaultPrediction(_ family: SingleFileArchitecture.Family, _ file: TensorSource) -> SchedulerConfig.PredictionType {
        guard family == .sd2 else { return .epsilon }
        let step = (file as? TorchCheckpoint)?.scalars["global_step"]
        return step == 875_000 ? .epsilon : .vPrediction
    }

    private static func mapped(_ path: String, _ body: () throws -> MappedTensorSource) throws -> MappedTensorSource {
        do {
            return try body()
        } catch let error as NameMappingError {
            throw CheckpointError.mapping(path: path, error: error)
        }
    }
}

extension UNetConfig {
    /// The diffusers config of a detected single-file UNet (diffusers' defaults elsewhere).
    public init(_ detected: SingleFileArchitecture.UNet) {
        self.init()
        inChannels = detected.inChannels
        outChannels = detected.outChannels
        blockOutChannels = detected.blockOutChannels
        layersPerBlock = .single(detected.layersPerBlock)
        downBlockTypes = detected.downBlockTypes
        upBlockTypes = detected.upBlockTypes
        crossAttentionDim = .single(detected.crossAttentionDim)
        attentionHeadDim = .perBlock(detected.attentionHeadDim)
        useLinearProjection = detected.useLinearProjection
        transformerLayersPerBlock = .single(detected.transformerLayersPerBlock)
        normNumGroups = detected.normNumGroups
    }
}

extension VAEConfig {
    public init(_ detected: SingleFileArchitecture.VAE) {
        self.init()
        inChannels = detected.inChannels
        outChannels = detected.outChannels
        latentChannels = detected.latentChannels
        blockOutChannels = detected.blockOutChannels
        downBlockTypes = Array(repeating: "DownEncoderBlock2D", count: detected.blockOutChannels.count)
        upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: detected.blockOutChannels.count)
        layersPerBlock = detected.layersPerBlock
        normNumGroups = detected.normNumGroups
        scalingFactor = Float(detected.scalingFactor)
    }
}

extension CLIPTextConfig {
    /// The config as a diffusers folder would have it (SD2: the penultimate-layer depth).
    public init(_ detected: SingleFileArchitecture.TextEncoder) {
        self.init()
        hiddenSize = detected.hiddenSize
        intermediateSize = detected.intermediateSize
        numHiddenLayers = detected.numHiddenLayers
        numAttentionHeads = detected.numAttentionHeads
        vocabSize = detected.vocabSize
        maxPositionEmbeddings = detected.maxPositionEmbeddings
        hiddenAct = detected.hiddenAct
        layerNormEps = 1e-5
    }
}
