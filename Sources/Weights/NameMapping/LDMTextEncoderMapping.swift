/// The text encoder of a single-file checkpoint, presented with transformers' `CLIPTextModel` names
/// under "text_model." (as SD folders on the Hub and the fixtures store them).
///
/// - SD1 (`cond_stage_model.transformer.text_model.*`, or without "text_model." in old exports): already
///   transformers' names, only the prefix changes; the `position_ids` buffer is dropped.
/// - SD2 (`cond_stage_model.model.*`, OpenCLIP): renamed, fused `attn.in_proj_*` cut into q/k/v. SD2
///   conditions on the penultimate layer + ln_final, which diffusers expresses by shipping one layer less;
///   `.penultimate` does the same here (the last resblock must exist and is consumed, not exposed), `.all`
///   exposes every layer for encoders that stop early themselves. logit_scale is CLIP's image-text head and
///   dropped; so is text_projection: diffusers' SD2 text encoder is a `CLIPTextModel` without one, and the
///   pooled output it serves would come from the last layer, which the penultimate view does not expose.
///   (`CLIPTextEncoder` loads a projection when a view exposes it as `text_projection.weight`, [out, in]; an
///   SDXL OpenCLIP table must expose this [in, out] tensor transposed.)
struct LDMTextEncoderLayout: Equatable {
    static let component = "text_encoder"
    static let clipPrefixes = ["cond_stage_model.transformer.text_model.", "cond_stage_model.transformer."]
    static let openCLIPPrefix = "cond_stage_model.model."
    static let strictPrefix = "cond_stage_model."

    enum Kind: Equatable { case clip, openCLIP }

    /// Where a text tower sits in a checkpoint: SD's `cond_stage_model.*` or one of SDXL's
    /// `conditioner.embedders.N.*` (see `TextTowerSite.sdxl…`).
    struct Site: Equatable {
        /// The diffusers component the view is for ("text_encoder", "text_encoder_2"), named in errors.
        var component: String
        /// Every tensor under it must be consumed.
        var strictPrefix: String
        var openCLIPPrefix: String?
        var clipPrefixes: [String]
        /// Whether the tower's `text_projection` is exposed as `text_projection.weight` ([proj, hidden],
        /// SDXL's pooled embedding); SD's is dropped (see the type's comment).
        var projection: Bool

        static let stableDiffusion = Site(component: LDMTextEncoderLayout.component, strictPrefix: LDMTextEncoderLayout.strictPrefix,
                                          openCLIPPrefix: LDMTextEncoderLayout.openCLIPPrefix,
                                          clipPrefixes: LDMTextEncoderLayout.clipPrefixes, projection: false)
    }

    var kind: Kind
    var prefix: String
    /// Layers stored in the checkpoint.
    var storedLayers: Int
    var hiddenSize: Int
    var intermediateSize: Int
    var vocabSize: Int
    var maxPositions: Int
    var site: Site = .stableDiffusion
    /// The full name of the stored projection (OpenCLIP `text_projection` [hidden, proj], transformers
    /// `text_projection.weight` [proj, hidden]) when `site.projection`; nil otherwise.
    var projectionName: String? = nil
    /// Its output width (SDXL's pooled `text_embeds` width).
    var projectionDim: Int? = nil

    static func detect(_ source: any TensorSource) throws -> LDMTextEncoderLayout {
        try detect(source, at: .stableDiffusion)
    }

    static func detect(_ source: any TensorSource, at site: Site) throws -> LDMTextEncoderLayout {
        func fail(_ detail: String) -> NameMappingError { .unrecognisedStructure(component: site.component, detail: detail) }
        if let openCLIPPrefix = site.openCLIPPrefix, source.shape(of: openCLIPPrefix + "token_embedding.weight") != nil {
            let b = MappingBuilder(source: source, component: site.component, prefix: openCLIPPrefix)
            let layers = b.indices(under: "transformer.resblocks.")
            guard let token = b.shape("token_embedding.weight"), token.count == 2,
                  let positions = b.shape("positional_embedding"), positions.count == 2,
                  let fc = b.shape("transformer.resblocks.0.mlp.c_fc.weight"), fc.count == 2,
                  layers == Array(0..<layers.count), !layers.isEmpty else {
                throw fail("OpenCLIP tensors under \(openCLIPPrefix) are incomplete")
            }
            var layout = LDMTextEncoderLayout(kind: .openCLIP, prefix: openCLIPPrefix, storedLayers: layers.count,
                                              hiddenSize: token[1], intermediateSize: fc[0], vocabSize: token[0],
                                              maxPositions: positions[0], site: site)
            if site.projection {
                // OpenCLIP stores the projection as [hidden, projection] (transposed on mapping).
                let name = openCLIPPrefix + "text_projection"
                layout.projectionName = name
                layout.projectionDim = try projectionShape(name, in: source, site: site, expected: "[hidden, projection]")[1]
            }
            return layout
        }
        for prefix in site.clipPrefixes where source.shape(of: prefix + "embeddings.token_embedding.weight") != nil {
            let b = MappingBuilder(source: source, component: site.component, prefix: prefix)
            let layers = b.indices(under: "encoder.layers.")
            guard let token = b.shape("embeddings.token_embedding.weight"), token.count == 2,
                  let positions = b.shape("embeddings.position_embedding.weight"), positions.count == 2,
                  let fc = b.shape("encoder.layers.0.mlp.fc1.weight"), fc.count == 2,
                  layers == Array(0..<layers.count), !layers.isEmpty else {
                throw fail("CLIP tensors under \(prefix) are incomplete")
            }
            var layout = LDMTextEncoderLayout(kind: .clip, prefix: prefix, storedLayers: layers.count, hiddenSize: token[1],
                                              intermediateSize: fc[0], vocabSize: token[0], maxPositions: positions[0],
                                              site: site)
            if site.projection {
                // transformers' CLIPTextModelWithProjection keeps the projection beside text_model.
                let tower = prefix.hasSuffix("text_model.") ? String(prefix.dropLast("text_model.".count)) : prefix
                let name = tower + "text_projection.weight"
                layout.projectionName = name
                layout.projectionDim = try projectionShape(name, in: source, site: site, expected: "[projection, hidden]")[0]
            }
            return layout
        }
        throw NameMappingError.componentNotFound(component: site.component, prefix: site.strictPrefix)
    }

    /// The 2-D shape of a text encoder's `text_projection`, required when the site says the encoder has one.
    private static func projectionShape(_ name: String, in source: any TensorSource, site: Site,
                                        expected: String) throws -> [Int] {
        guard let shape = source.shape(of: name) else {
            throw NameMappingError.missingTensors(component: site.component, names: [name])
        }
        guard shape.count == 2 else {
            throw NameMappingError.shapeMismatch(component: site.component, name: name, shape: shape, expected: expected)
        }
        return shape
    }

    /// Layers exposed by `mapping(_:depth:)`.
    func exposedLayers(_ depth: OpenCLIPDepth) -> Int {
        kind == .openCLIP && depth == .penultimate ? storedLayers - 1 : storedLayers
    }

    func mapping(_ source: any TensorSource, depth: OpenCLIPDepth) throws -> MappedTensorSource {
        var b = MappingBuilder(source: source, component: site.component, prefix: prefix,
                               strictPrefix: site.strictPrefix)
        let t = "text_model."
        switch kind {
        case .clip:
            b.map("embeddings.token_embedding.weight", t + "embeddings.token_embedding.weight")
            b.map("embeddings.position_embedding.weight", t + "embeddings.position_embedding.weight")
            b.ignoreIfPresent("embeddings.position_ids")
            for i in 0..<storedLayers {
                let layer = "encoder.layers.\(i)."
                for projection in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                    b.mapLayer(layer + "self_attn." + projection, t + layer + "self_attn." + projection)
                }
                for name in ["layer_norm1", "layer_norm2", "mlp.fc1", "mlp.fc2"] {
                    b.mapLayer(layer + name, t + layer + name)
                }
            }
            b.mapLayer("final_layer_norm", t + "final_layer_norm")
        case .openCLIP:
            b.map("token_embedding.weight", t + "embeddings.token_embedding.weight")
            b.map("positional_embedding", t + "embeddings.position_embedding.weight")
            b.mapLayer("ln_final", t + "final_layer_norm")
            if projectionName == nil { b.ignoreIfPresent("text_projection") }
            b.ignoreIfPresent("logit_scale")
            b.ignoreIfPresent("attn_mask")
            let exposed = exposedLayers(depth)
            let renames = [("ln_1", "layer_norm1"), ("ln_2", "layer_norm2"), ("mlp.c_fc", "mlp.fc1"),
                           ("mlp.c_proj", "mlp.fc2"), ("attn.out_proj", "self_attn.out_proj")]
            for i in 0..<storedLayers {
                let ldm = "transformer.resblocks.\(i)."
                guard i < exposed else {
                    for (name, _) in renames { b.consume(ldm + name + ".weight"); b.consume(ldm + name + ".bias") }
                    b.consume(ldm + "attn.in_proj_weight")
                    b.consume(ldm + "attn.in_proj_bias")
                    continue
                }
                let layer = t + "encoder.layers.\(i)."
                for (name, diffusers) in renames { b.mapLayer(ldm + name, layer + diffusers) }
                for (part, projection) in ["q_proj", "k_proj", "v_proj"].enumerated() {
                    b.map(ldm + "attn.in_proj_weight", layer + "self_attn.\(projection).weight", .rows(part: part, parts: 3))
                    b.map(ldm + "attn.in_proj_bias", layer + "self_attn.\(projection).bias", .rows(part: part, parts: 3))
                }
            }
        }
        if let projectionName {
            b.mapFullName(projectionName, "text_projection.weight", kind == .openCLIP ? .transpose : .identity)
        }
        return try b.finish()
    }
}

/// How many OpenCLIP layers an SD2 text encoder view exposes.
public enum OpenCLIPDepth: Equatable, Sendable {
    /// All but the last: the diffusers SD2 layout (23 of 24 layers), whose last_hidden_state is SD2's conditioning.
    case penultimate
    /// Every stored layer.
    case all
}
