/// What the SDXL base and refiner families share: sgm checkpoints (`model.diffusion_model.`, `first_stage_model.`,
/// `conditioner.embedders.N.`) whose UNet and VAE read through the LDM tables (the UNet with its
/// `label_emb` added embedding and per-level transformer depths), and text towers at `conditioner.embedders.N`:
/// CLIP ViT-L in transformers' names (`embedders.0.transformer.text_model.*`) and OpenCLIP ViT-bigG either in
/// OpenCLIP's names (`model.*`, fused q/k/v, `text_projection` stored [hidden, proj]) or in transformers'
/// (`model.text_model.*` + `model.text_projection.weight`), as some merged files have.
enum SDXLFamilySupport {
    static let conditionerPrefix = "conditioner."
    static let clipL = LDMTextEncoderLayout.Site(
        component: SingleFileComponent.textEncoder.rawValue, strictPrefix: "conditioner.embedders.0.",
        openCLIPPrefix: nil, clipPrefixes: ["conditioner.embedders.0.transformer.text_model."], projection: false)

    /// bigG at `conditioner.embedders.<embedder>` (base: 1, refiner: 0).
    static func bigG(embedder: Int) -> LDMTextEncoderLayout.Site {
        let root = "conditioner.embedders.\(embedder)."
        return LDMTextEncoderLayout.Site(
            component: SingleFileComponent.textEncoder2.rawValue, strictPrefix: root, openCLIPPrefix: root + "model.",
            clipPrefixes: [root + "model.text_model."], projection: true)
    }

    static func hasTensors(under prefix: String, in checkpoint: any TensorSource) -> Bool {
        checkpoint.names.contains { $0.hasPrefix(prefix) }
    }

    /// The architecture of an SDXL checkpoint. `sites` are the family's text towers in diffusers order
    /// (base: CLIP-L then bigG; refiner: bigG); the UNet's context is their widths concatenated.
    static func architecture(of checkpoint: any TensorSource, family: ModelFamilyID, conventions: SingleFileConventions,
                             textSites: (first: LDMTextEncoderLayout.Site?, second: LDMTextEncoderLayout.Site),
                             timeIDs: Int) throws -> SingleFileArchitecture {
        func fail(_ detail: String) -> NameMappingError { .unrecognisedStructure(component: "unet", detail: detail) }
        let unet = try LDMUNetLayout.detect(checkpoint)
        let first = try textSites.first.flatMap { site in try ifPresent { try LDMTextEncoderLayout.detect(checkpoint, at: site) } }
        let second = try ifPresent { try LDMTextEncoderLayout.detect(checkpoint, at: textSites.second) }
        let vae = try ifPresent { try LDMVAELayout.detect(checkpoint) }
        guard let added = unet.addedEmbedding else {
            throw fail("no label_emb.0.0.weight (SDXL's added text/time embedding)")
        }
        // The added embedding's input is the pooled bigG projection followed by `timeIDs` sinusoids: its
        // width tells the sinusoid width once the projection's is known.
        guard let pooled = second?.projectionDim else {
            throw NameMappingError.componentNotFound(component: textSites.second.component, prefix: textSites.second.strictPrefix)
        }
        let timeWidth = added.inputDim - pooled
        guard timeWidth > 0, timeWidth % timeIDs == 0 else {
            throw fail("label_emb.0.0.weight takes \(added.inputDim) inputs, not \(pooled) pooled + \(timeIDs) time ids")
        }
        let contextWidth = (first?.hiddenSize ?? 0) + (second?.hiddenSize ?? 0)
        if first != nil || textSites.first == nil, unet.contextDim != contextWidth {
            throw fail("cross-attention context is \(unet.contextDim) wide, the text encoders give \(contextWidth)")
        }
        let headDim = max(conventions.sdxlAttentionHeadDim, 1)
        let detectedUNet = SingleFileArchitecture.UNet(
            inChannels: unet.inChannels, outChannels: unet.outChannels, blockOutChannels: unet.blockOutChannels,
            layersPerBlock: unet.layersPerBlock,
            downBlockTypes: unet.downHasAttention.map { $0 ? "CrossAttnDownBlock2D" : "DownBlock2D" },
            upBlockTypes: unet.upHasAttention.map { $0 ? "CrossAttnUpBlock2D" : "UpBlock2D" },
            crossAttentionDim: unet.contextDim,
            attentionHeadDim: unet.blockOutChannels.map { conventions.unetHeadCount(channels: $0) { $0 / headDim } },
            useLinearProjection: unet.useLinearProjection, transformerLayersPerBlock: unet.transformerDepths,
            normNumGroups: conventions.unetNormGroups,
            textTimeEmbedding: .init(timeEmbedDim: timeWidth / timeIDs, inputDim: added.inputDim, timeIDs: timeIDs))
        let detectedVAE = vae.map {
            SingleFileArchitecture.VAE(
                inChannels: $0.inChannels, outChannels: $0.outChannels, latentChannels: $0.latentChannels,
                blockOutChannels: $0.blockOutChannels, layersPerBlock: $0.layersPerBlock,
                normNumGroups: conventions.vaeNormGroups, scalingFactor: conventions.vaeScalingFactor)
        }
        func text(_ layout: LDMTextEncoderLayout, second: Bool, act: String) -> SingleFileArchitecture.TextEncoder {
            SingleFileArchitecture.TextEncoder(
                hiddenSize: layout.hiddenSize, intermediateSize: layout.intermediateSize,
                numHiddenLayers: layout.storedLayers, storedLayers: layout.storedLayers,
                numAttentionHeads: conventions.textHeadCount(width: layout.hiddenSize, second: second),
                vocabSize: layout.vocabSize,
                maxPositionEmbeddings: layout.maxPositions, hiddenAct: act, projectionDim: layout.projectionDim)
        }
        return SingleFileArchitecture(
            family: family, unet: detectedUNet, vae: detectedVAE,
            textEncoder: first.map { text($0, second: false, act: "quick_gelu") },
            textEncoder2: second.map { text($0, second: true, act: "gelu") })
    }

    /// A text tower under diffusers names, every layer exposed (SDXL conditions on `hidden_states[-2]` of the
    /// whole encoder, so diffusers ships all of them), after refusing `conditioner.*` tensors that belong to
    /// none of the family's towers.
    static func textView(at site: LDMTextEncoderLayout.Site, of checkpoint: any TensorSource,
                         familySites: [LDMTextEncoderLayout.Site]) throws -> MappedTensorSource {
        let stray = checkpoint.names.filter { name in
            name.hasPrefix(conditionerPrefix) && !familySites.contains { name.hasPrefix($0.strictPrefix) }
        }
        if !stray.isEmpty { throw NameMappingError.unexpectedTensors(component: site.component, names: stray.sorted()) }
        return try LDMTextEncoderLayout.detect(checkpoint, at: site).mapping(checkpoint, depth: .all)
    }

    static func unetView(of checkpoint: any TensorSource) throws -> MappedTensorSource {
        try LDMUNetLayout.detect(checkpoint).mapping(checkpoint, addedEmbedding: true)
    }

    /// nil when the checkpoint has no tensors for the component; present but malformed still fails.
    private static func ifPresent<T>(_ detect: () throws -> T) throws -> T? {
        do {
            return try detect()
        } catch let error as NameMappingError {
            if case .componentNotFound = error { return nil }
            throw error
        }
    }
}
