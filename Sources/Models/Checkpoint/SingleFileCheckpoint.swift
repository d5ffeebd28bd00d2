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
        let sidecar = try InferenceConfigSidecar.beside(path)
        do {
            family = try ModelFamilies.recognise(singleFile: file)
            let conventions = options.conventions ?? sidecar.map { $0.conventions(over: family.conventions) } ?? family.conventions
            architecture = try family.architecture(of: file, conventions: conventions)
        } catch let error as NameMappingError {
            throw CheckpointError.unrecognised(path: path, reason: error.description)
        }
        guard let vaeArchitecture = architecture.vae else {
            throw CheckpointError.unrecognised(path: path, reason: "no VAE (first_stage_model.*) tensors")
        }
        // SD 1.x/2.x: one encoder (cond_stage_model.*); SDXL: CLIP-L and bigG; the refiner: bigG alone.
        var textEncoders: [LoadedTextEncoder] = []
        for (slot, part, detected) in [(TextEncoderSlot.textEncoder, SingleFileComponent.textEncoder, architecture.textEncoder),
                                            (.textEncoder2, .textEncoder2, architecture.textEncoder2)] {
            guard let detected else { continue }
            var config = CLIPTextConfig(detected)
            if let projection = detected.projectionDim { config.projectionDim = projection }
            let source = try mapped(path) { try family.diffusersView(of: part, in: file) }
            let encoder = try component(slot.rawValue, path) { try CLIPTextEncoder(config: config, weights: source) }
            textEncoders.append(LoadedTextEncoder(slot: slot, encoder: encoder,
                                                  tokenizer: .standard(CLIPSpecialTokens(family.tokenizer(for: part)))))
        }
        guard !textEncoders.isEmpty else {
            throw CheckpointError.unrecognised(path: path, reason: "no text encoder (cond_stage_model.* or conditioner.embedders.*) tensors")
        }

        let unetConfig = UNetConfig(architecture.unet)
        let unetSource = try mapped(path) { try family.diffusersView(of: .unet, in: file) }
        let unet = try component("unet", path) { try UNet(config: unetConfig, weights: unetSource) }

        let vaeConfig = VAEConfig(vaeArchitecture)
        let vaeSource = try mapped(path) { try family.diffusersView(of: .vae, in: file) }
        let vae = try component("vae", path) { try VAE(config: vaeConfig, weights: vaeSource) }

        var scheduler = SchedulerConfig()
        scheduler.predictionType = options.predictionType
            ?? PredictionRule.singleFile(sidecar: sidecar, family: family, checkpoint: file,
                                                       unetInChannels: architecture.unet.inChannels)

        let layoutFamily = architecture.family.rawValue + (architecture.isInpainting ? "-inpaint" : "")
        // What diffusers' SDXL pipelines register: zero negatives for the base and inpaint models; the refiner
        // (5 time ids) conditions on an aesthetic score and encodes an empty negative like any prompt.
        let flags: PipelineFlags
        if let added = architecture.unet.textTimeEmbedding {
            flags = added.timeIDs == 5 ? PipelineFlags(forceZerosForEmptyPrompt: false, requiresAestheticsScore: true) : .sdxlDefaults
        } else {
            flags = .none
        }
        return StableDiffusionModels(textEncoders: textEncoders, unet: unet, vae: vae, scheduler: scheduler,
                                     layout: .singleFile(path: path, family: layoutFamily), flags: flags,
                                     family: family.id)
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
        if let added = detected.textTimeEmbedding {
            additionEmbedType = "text_time"
            additionTimeEmbedDim = added.timeEmbedDim
            projectionClassEmbeddingsInputDim = added.inputDim
        }
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
        // The configs diffusers ships for these encoders (SD 1.x/2.x, both SDXL encoders) keep the legacy ids
        // (bos 0, eos 2), so transformers pools at the argmax of the ids: the same position for CLIP's vocabulary.
        bosTokenId = 0
        eosTokenId = 2
    }
}
