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
        let family: any ModelFamily
        let architecture: SingleFileArchitecture
        do {
            family = try ModelFamilies.recognise(singleFile: file)
            architecture = try family.architecture(of: file, conventions: options.conventions ?? family.conventions)
        } catch let error as NameMappingError {
            throw CheckpointError.unrecognised(path: path, reason: error.description)
        }
        // SDXL's networks are mapped (`SDXLSingleFile.components(of:)`, `family.diffusersView`) but
        // StableDiffusionModels holds one text encoder and the UNet has no added embedding yet.
        if family.singleFileComponents.contains(.textEncoder2) {
            throw CheckpointError.unsupportedConfig(
                path: path, reason: "\(family.id) single files: a second text encoder (text_encoder_2) is not loaded yet")
        }
        guard let textArchitecture = architecture.textEncoder else {
            throw CheckpointError.unrecognised(path: path, reason: "no text encoder (cond_stage_model.*) tensors")
        }
        guard let vaeArchitecture = architecture.vae else {
            throw CheckpointError.unrecognised(path: path, reason: "no VAE (first_stage_model.*) tensors")
        }

        let textConfig = CLIPTextConfig(textArchitecture)
        let textSource = try mapped(path) { try family.diffusersView(of: .textEncoder, in: file) }
        let textEncoder = try component("text_encoder", path) {
            try CLIPTextEncoder(config: textConfig, weights: textSource)
        }

        let unetConfig = UNetConfig(architecture.unet)
        let unetSource = try mapped(path) { try family.diffusersView(of: .unet, in: file) }
        let unet = try component("unet", path) { try UNet(config: unetConfig, weights: unetSource) }

        let vaeConfig = VAEConfig(vaeArchitecture)
        let vaeSource = try mapped(path) { try family.diffusersView(of: .vae, in: file) }
        let vae = try component("vae", path) { try VAE(config: vaeConfig, weights: vaeSource) }

        var scheduler = SchedulerConfig()
        scheduler.predictionType = options.predictionType
            ?? PredictionRule.singleFile(path: path, family: family, checkpoint: file)

        let layoutFamily = architecture.family.rawValue + (architecture.isInpainting ? "-inpaint" : "")
        return StableDiffusionModels(textEncoder: textEncoder, unet: unet, vae: vae, scheduler: scheduler,
                                     tokenizer: .standard(CLIPSpecialTokens(family.tokenizer)),
                                     layout: .singleFile(path: path, family: layoutFamily))
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
        let depths = detected.transformerLayersPerBlock
        transformerLayersPerBlock = Set(depths).count == 1 ? .single(depths[0]) : .perBlock(depths)
        normNumGroups = detected.normNumGroups
        if detected.textTimeEmbedding != nil { additionEmbedType = "text_time" }
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
