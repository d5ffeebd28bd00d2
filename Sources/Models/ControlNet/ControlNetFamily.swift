import Weights

/// Which Stable Diffusion family a ControlNet belongs to, and the diffusers config a single file implies.
/// A ControlNet holds no text encoder, so the family follows from its UNet encoder: SDXL's added text/time
/// embedding, else SD 2's 1024-wide context or its linear transformer projections (LDM's `use_linear_in_transformer`,
/// which SD 1's convolutional proj_in never has, whatever the context width), else SD 1.
public enum ControlNetFamily {
    public static func detect(contextDim: Int, addedEmbedding: Bool, linearProjection: Bool = false) -> ModelFamilyID {
        if addedEmbedding { return .sdxl }
        return contextDim == SD2Family.contextWidth || linearProjection ? .sd2 : .sd1
    }

    /// The config of a single file, with the hyper-parameters its tensors do not record from the family's
    /// conventions (or `options`): SD 1 a fixed head count, SD 2 and SDXL 64-channel heads, the norm groups,
    /// and SDXL's time-id width.
    static func config(of layout: LDMControlNetLayout, family: ModelFamilyID, options: ControlNetOptions,
                       path: String) throws -> ControlNetConfig {
        try config(of: DiffusersControlNetStructure(
            inChannels: layout.inChannels, blockOutChannels: layout.blockOutChannels, layersPerBlock: layout.layersPerBlock,
            downHasAttention: layout.downHasAttention, transformerDepths: layout.transformerDepths,
            contextDim: layout.contextDim, useLinearProjection: layout.useLinearProjection,
            addedEmbeddingInputDim: layout.addedEmbeddingInputDim, hintChannels: layout.hintChannels,
            hintBlockChannels: layout.hintBlockChannels), family: family, options: options, path: path)
    }

    /// The config of a single file whose structure was read from its tensors (either layout).
    static func config(of layout: DiffusersControlNetStructure, family: ModelFamilyID, options: ControlNetOptions,
                       path: String) throws -> ControlNetConfig {
        let conventions = options.conventions
            ?? (family == .sdxl ? SingleFileConventions.stableDiffusionXL : .stableDiffusion)
        var unet = UNetConfig()
        unet.inChannels = layout.inChannels
        unet.blockOutChannels = layout.blockOutChannels
        unet.layersPerBlock = .single(layout.layersPerBlock)
        unet.downBlockTypes = layout.downHasAttention.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" }
        // A ControlNet has no up blocks; the mirrored list keeps the config a valid UNet config.
        unet.upBlockTypes = layout.downHasAttention.reversed().map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" }
        unet.crossAttentionDim = .single(layout.contextDim)
        unet.useLinearProjection = layout.useLinearProjection
        unet.transformerLayersPerBlock = .perBlock(layout.transformerDepths)
        unet.normNumGroups = conventions.unetNormGroups
        switch family {
        case .sd1:
            unet.attentionHeadDim = .single(conventions.sd1AttentionHeads)
        case .sd2:
            unet.attentionHeadDim = .perBlock(layout.blockOutChannels.map { $0 / max(conventions.sd2AttentionHeadDim, 1) })
        default:
            unet.attentionHeadDim = .perBlock(layout.blockOutChannels.map { $0 / max(conventions.sdxlAttentionHeadDim, 1) })
        }
        if let input = layout.addedEmbeddingInputDim {
            let rest = input - options.sdxlPooledWidth
            guard rest > 0, rest % 6 == 0 else {
                throw CheckpointError.unsupportedConfig(path: path,
                    reason: "ControlNet label_emb.0.0 takes \(input) inputs, not \(options.sdxlPooledWidth) pooled + 6 time ids")
            }
            unet.additionEmbedType = "text_time"
            unet.additionTimeEmbedDim = rest / 6
            unet.projectionClassEmbeddingsInputDim = input
        }
        var config = ControlNetConfig()
        config.unet = unet
        config.conditioningChannels = layout.hintChannels
        config.conditioningEmbeddingOutChannels = layout.hintBlockChannels
        return config
    }
}
