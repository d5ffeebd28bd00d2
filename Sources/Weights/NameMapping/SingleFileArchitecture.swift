import Foundation

/// What a single-file SD checkpoint is, read from its tensor names and shapes, expressed as the values
/// of the diffusers config.json files the equivalent folder would have. Values the tensors cannot tell
/// (head counts, norm groups, scaling factor) come from `SingleFileConventions`; the prediction type
/// (epsilon or v) is not recorded at all and must come from the user or a sidecar config.
public struct SingleFileArchitecture: Equatable, Sendable {
    public enum Family: String, Equatable, Sendable { case sd1, sd2 }

    public struct UNet: Equatable, Sendable {
        public var inChannels: Int
        public var outChannels: Int
        public var blockOutChannels: [Int]
        public var layersPerBlock: Int
        public var downBlockTypes: [String]
        public var upBlockTypes: [String]
        public var crossAttentionDim: Int
        /// diffusers' `attention_head_dim`, which is really the number of heads per down block.
        public var attentionHeadDim: [Int]
        public var useLinearProjection: Bool
        public var transformerLayersPerBlock: Int
        public var normNumGroups: Int
    }

    public struct VAE: Equatable, Sendable {
        public var inChannels: Int
        public var outChannels: Int
        public var latentChannels: Int
        public var blockOutChannels: [Int]
        public var layersPerBlock: Int
        public var normNumGroups: Int
        public var scalingFactor: Double
    }

    public struct TextEncoder: Equatable, Sendable {
        public var hiddenSize: Int
        public var intermediateSize: Int
        /// Layers as a diffusers folder has them (SD2: one less than stored, see `OpenCLIPDepth`).
        public var numHiddenLayers: Int
        public var storedLayers: Int
        public var numAttentionHeads: Int
        public var vocabSize: Int
        public var maxPositionEmbeddings: Int
        /// "quick_gelu" (OpenAI CLIP, SD1) or "gelu" (OpenCLIP, SD2).
        public var hiddenAct: String
    }

    public var family: Family
    public var isInpainting: Bool { unet.inChannels == 9 }
    public var unet: UNet
    public var vae: VAE?
    public var textEncoder: TextEncoder?

    /// Detects the architecture. The UNet is required; the VAE and text encoder are reported when present
    /// (nil when absent; a present but unrecognisable one fails).
    public static func detect(_ checkpoint: any TensorSource,
                              conventions: SingleFileConventions = .stableDiffusion) throws -> SingleFileArchitecture {
        let unet = try LDMUNetLayout.detect(checkpoint)
        let text = try ifPresent { try LDMTextEncoderLayout.detect(checkpoint) }
        let vae = try ifPresent { try LDMVAELayout.detect(checkpoint) }
        // The text encoder is the reliable witness (CLIP vs OpenCLIP); without one, SD2's 1024-wide context.
        let family: Family
        if let text { family = text.kind == .openCLIP ? .sd2 : .sd1 } else { family = unet.contextDim == 1024 ? .sd2 : .sd1 }

        let heads: [Int] = unet.blockOutChannels.map { channels in
            family == .sd1 ? conventions.sd1AttentionHeads : channels / max(conventions.sd2AttentionHeadDim, 1)
        }
        let levels = unet.levels
        let detectedUNet = UNet(
            inChannels: unet.inChannels, outChannels: unet.outChannels, blockOutChannels: unet.blockOutChannels,
            layersPerBlock: unet.layersPerBlock,
            downBlockTypes: unet.downHasAttention.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" },
            upBlockTypes: unet.upHasAttention.map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" },
            crossAttentionDim: unet.contextDim, attentionHeadDim: Array(heads.prefix(levels)),
            useLinearProjection: unet.useLinearProjection, transformerLayersPerBlock: unet.transformerDepth,
            normNumGroups: conventions.unetNormGroups)
        let detectedVAE = vae.map {
            VAE(inChannels: $0.inChannels, outChannels: $0.outChannels, latentChannels: $0.latentChannels,
                blockOutChannels: $0.blockOutChannels, layersPerBlock: $0.layersPerBlock,
                normNumGroups: conventions.vaeNormGroups, scalingFactor: conventions.vaeScalingFactor)
        }
        let detectedText = text.map {
            TextEncoder(hiddenSize: $0.hiddenSize, intermediateSize: $0.intermediateSize,
                        numHiddenLayers: $0.exposedLayers(.penultimate), storedLayers: $0.storedLayers,
                        numAttentionHeads: $0.hiddenSize / max(conventions.textAttentionHeadDim, 1),
                        vocabSize: $0.vocabSize, maxPositionEmbeddings: $0.maxPositions,
                        hiddenAct: $0.kind == .openCLIP ? "gelu" : "quick_gelu")
        }
        return SingleFileArchitecture(family: family, unet: detectedUNet, vae: detectedVAE, textEncoder: detectedText)
    }
}

/// nil when the checkpoint has no tensors for the component (UNet-only files exist); a component that is
/// present but malformed still fails detection with its error.
private func ifPresent<T>(_ detect: () throws -> T) throws -> T? {
    do {
        return try detect()
    } catch let error as NameMappingError {
        if case .componentNotFound = error { return nil }
        throw error
    }
}

extension SingleFileArchitecture.UNet {
    /// The keys of diffusers' unet/config.json this detection determines (decodable by the Models configs).
    /// SD1 writes `attention_head_dim` as one number, SD2 as a list, as diffusers' converter does.
    public var diffusersConfig: [String: Any] {
        let uniform = Set(attentionHeadDim).count == 1 && !useLinearProjection
        return [
            "in_channels": inChannels, "out_channels": outChannels, "block_out_channels": blockOutChannels,
            "layers_per_block": layersPerBlock, "down_block_types": downBlockTypes, "up_block_types": upBlockTypes,
            "cross_attention_dim": crossAttentionDim,
            "attention_head_dim": uniform ? attentionHeadDim[0] as Any : attentionHeadDim as Any,
            "use_linear_projection": useLinearProjection, "transformer_layers_per_block": transformerLayersPerBlock,
            "norm_num_groups": normNumGroups,
        ]
    }
}

extension SingleFileArchitecture.VAE {
    public var diffusersConfig: [String: Any] {
        [
            "in_channels": inChannels, "out_channels": outChannels, "latent_channels": latentChannels,
            "block_out_channels": blockOutChannels, "layers_per_block": layersPerBlock,
            "down_block_types": Array(repeating: "DownEncoderBlock2D", count: blockOutChannels.count),
            "up_block_types": Array(repeating: "UpDecoderBlock2D", count: blockOutChannels.count),
            "norm_num_groups": normNumGroups, "scaling_factor": scalingFactor,
        ]
    }
}

extension SingleFileArchitecture.TextEncoder {
    public var diffusersConfig: [String: Any] {
        [
            "hidden_size": hiddenSize, "intermediate_size": intermediateSize, "num_hidden_layers": numHiddenLayers,
            "num_attention_heads": numAttentionHeads, "vocab_size": vocabSize,
            "max_position_embeddings": maxPositionEmbeddings, "hidden_act": hiddenAct, "layer_norm_eps": 1e-5,
        ]
    }
}
