import Foundation

/// What a single-file SD checkpoint is, read from its tensor names and shapes, expressed as the values
/// of the diffusers config.json files the equivalent folder would have. Values the tensors cannot tell
/// (head counts, norm groups, scaling factor) come from `SingleFileConventions`; the prediction type
/// (epsilon or v) is not recorded at all and must come from the user, a sidecar config or the family's rule.
/// Which family a file is, and how its tensors are read, is the family's (`ModelFamily`, `SD1Family.swift`, …).
public struct SingleFileArchitecture: Equatable, Sendable {
    /// The family's identifier (`.sd1`, `.sd2`); the family itself is `ModelFamilies.family(_:)`.
    public typealias Family = ModelFamilyID

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
        /// Per level (SDXL base: [1, 2, 10]); see `LDMUNetLayout.transformerDepths`.
        public var transformerLayersPerBlock: [Int]
        public var normNumGroups: Int
        /// SDXL's `addition_embed_type: "text_time"` embedding; nil for SD 1.x/2.x.
        public var textTimeEmbedding: TextTimeEmbedding? = nil
    }

    /// diffusers' `add_embedding` (LDM `label_emb.0`): the pooled text embedding and the sinusoidally
    /// embedded time ids, concatenated, through two linears into the time embedding.
    public struct TextTimeEmbedding: Equatable, Sendable {
        /// `addition_time_embed_dim`: the sinusoid width per time id (SDXL: 256).
        public var timeEmbedDim: Int
        /// `projection_class_embeddings_input_dim` = pooled width + time ids × `timeEmbedDim` (SDXL base 2816).
        public var inputDim: Int
        /// Time ids per sample: 6 (original size, crop, target size) or 5 (the refiner's aesthetic score
        /// instead of the target size).
        public var timeIDs: Int
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
        /// The `text_projection` output width of a `CLIPTextModelWithProjection` (SDXL's second encoder);
        /// nil for encoders whose projection is not used.
        public var projectionDim: Int? = nil
    }

    public var family: Family
    public var isInpainting: Bool { unet.inChannels == 9 }
    public var unet: UNet
    public var vae: VAE?
    public var textEncoder: TextEncoder?
    /// SDXL's second encoder (OpenCLIP ViT-bigG, diffusers' `text_encoder_2`); the refiner's only one.
    public var textEncoder2: TextEncoder? = nil

    /// Detects the family (`ModelFamilies`, in registry order) and lets it read the architecture.
    /// `conventions` overrides the family's own hyper-parameters (the tiny test fixtures need that).
    public static func detect(_ checkpoint: any TensorSource,
                              conventions: SingleFileConventions? = nil) throws -> SingleFileArchitecture {
        let family = try ModelFamilies.recognise(singleFile: checkpoint)
        return try family.architecture(of: checkpoint, conventions: conventions ?? family.conventions)
    }
}

extension SingleFileArchitecture.UNet {
    /// The keys of diffusers' unet/config.json this detection determines (decodable by the Models configs).
    /// SD1 writes `attention_head_dim` as one number, SD2 as a list, as diffusers' converter does.
    public var diffusersConfig: [String: Any] {
        let uniform = Set(attentionHeadDim).count == 1 && !useLinearProjection
        let depths = Set(transformerLayersPerBlock).count == 1 ? transformerLayersPerBlock[0] as Any
            : transformerLayersPerBlock as Any
        var config: [String: Any] = [
            "in_channels": inChannels, "out_channels": outChannels, "block_out_channels": blockOutChannels,
            "layers_per_block": layersPerBlock, "down_block_types": downBlockTypes, "up_block_types": upBlockTypes,
            "cross_attention_dim": crossAttentionDim,
            "attention_head_dim": uniform ? attentionHeadDim[0] as Any : attentionHeadDim as Any,
            "use_linear_projection": useLinearProjection, "transformer_layers_per_block": depths,
            "norm_num_groups": normNumGroups,
        ]
        if let added = textTimeEmbedding {
            config["addition_embed_type"] = "text_time"
            config["addition_time_embed_dim"] = added.timeEmbedDim
            config["projection_class_embeddings_input_dim"] = added.inputDim
        }
        return config
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
        var config: [String: Any] = [
            "hidden_size": hiddenSize, "intermediate_size": intermediateSize, "num_hidden_layers": numHiddenLayers,
            "num_attention_heads": numAttentionHeads, "vocab_size": vocabSize,
            "max_position_embeddings": maxPositionEmbeddings, "hidden_act": hiddenAct, "layer_norm_eps": 1e-5,
        ]
        if let projectionDim { config["projection_dim"] = projectionDim }
        return config
    }
}
