/// What SD1 and SD2 share: both are LDM checkpoints (`model.diffusion_model.`, `first_stage_model.`,
/// `cond_stage_model.`) read through the same layout tables; they differ in the text tower, the attention
/// head rule and the depth of the text encoder they use. Families built on another layout (SDXL's
/// `conditioner.embedders.*`) do not use this.
enum LDMFamilySupport {
    /// Which text tower a file stores, by the token embedding `LDMTextEncoderLayout.detect` would pick;
    /// nil when it has none (UNet-only files).
    static func textEncoderKind(in checkpoint: any TensorSource) -> LDMTextEncoderLayout.Kind? {
        if checkpoint.shape(of: LDMTextEncoderLayout.openCLIPPrefix + "token_embedding.weight") != nil { return .openCLIP }
        let clip = LDMTextEncoderLayout.clipPrefixes.contains {
            checkpoint.shape(of: $0 + "embeddings.token_embedding.weight") != nil
        }
        return clip ? .clip : nil
    }

    /// The UNet's cross-attention context width; nil when the UNet cannot be read (the family that claims
    /// the file then reports why).
    static func unetContextWidth(in checkpoint: any TensorSource) -> Int? {
        try? LDMUNetLayout.detect(checkpoint).contextDim
    }

    /// The architecture of an LDM checkpoint. `attentionHeads` turns a block's channel count into its head
    /// count (the family's rule); `textDepth` is the text encoder depth the family conditions on.
    static func architecture(of checkpoint: any TensorSource, family: ModelFamilyID, conventions: SingleFileConventions,
                             textDepth: OpenCLIPDepth, attentionHeads: (Int) -> Int) throws -> SingleFileArchitecture {
        let unet = try LDMUNetLayout.detect(checkpoint)
        let text = try ifPresent { try LDMTextEncoderLayout.detect(checkpoint) }
        let vae = try ifPresent { try LDMVAELayout.detect(checkpoint) }
        let heads = unet.blockOutChannels.map(attentionHeads)
        let detectedUNet = SingleFileArchitecture.UNet(
            inChannels: unet.inChannels, outChannels: unet.outChannels, blockOutChannels: unet.blockOutChannels,
            layersPerBlock: unet.layersPerBlock,
            downBlockTypes: unet.downHasAttention.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" },
            upBlockTypes: unet.upHasAttention.map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" },
            crossAttentionDim: unet.contextDim, attentionHeadDim: Array(heads.prefix(unet.levels)),
            useLinearProjection: unet.useLinearProjection, transformerLayersPerBlock: unet.transformerDepths,
            normNumGroups: conventions.unetNormGroups)
        let detectedVAE = vae.map {
            SingleFileArchitecture.VAE(
                inChannels: $0.inChannels, outChannels: $0.outChannels, latentChannels: $0.latentChannels,
                blockOutChannels: $0.blockOutChannels, layersPerBlock: $0.layersPerBlock,
                normNumGroups: conventions.vaeNormGroups, scalingFactor: conventions.vaeScalingFactor)
        }
        let detectedText = text.map {
            SingleFileArchitecture.TextEncoder(
                hiddenSize: $0.hiddenSize, intermediateSize: $0.intermediateSize,
                numHiddenLayers: $0.exposedLayers(textDepth), storedLayers: $0.storedLayers,
                numAttentionHeads: conventions.textHeadCount(width: $0.hiddenSize),
                vocabSize: $0.vocabSize, maxPositionEmbeddings: $0.maxPositions,
                hiddenAct: $0.kind == .openCLIP ? "gelu" : "quick_gelu")
        }
        return SingleFileArchitecture(family: family, unet: detectedUNet, vae: detectedVAE, textEncoder: detectedText)
    }

    static func diffusersView(of component: SingleFileComponent, in checkpoint: any TensorSource,
                              textDepth: OpenCLIPDepth) throws -> MappedTensorSource {
        switch component {
        case .unet: return try LDMToDiffusers.unet(checkpoint)
        case .vae: return try LDMToDiffusers.vae(checkpoint)
        case .textEncoder: return try LDMToDiffusers.textEncoder(checkpoint, openCLIPDepth: textDepth)
        case .textEncoder2:
            throw NameMappingError.componentNotFound(component: component.rawValue, prefix: LDMTextEncoderLayout.strictPrefix)
        }
    }

    /// nil when the checkpoint has no tensors for the component (UNet-only files exist); a component that is
    /// present but malformed still fails detection with its error.
    private static func ifPresent<T>(_ detect: () throws -> T) throws -> T? {
        do {
            return try detect()
        } catch let error as NameMappingError {
            if case .componentNotFound = error { return nil }
            throw error
        }
    }
}
