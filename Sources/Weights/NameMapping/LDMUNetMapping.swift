/// The block structure of an LDM `openaimodel.UNetModel` read from its tensor names and shapes, and the
/// table presenting it as diffusers' `UNet2DConditionModel`.
///
/// LDM numbers blocks flat: input_blocks.0 is conv_in, then per resolution level `layersPerBlock`
/// (resnet, optional transformer) blocks and, except on the last level, one downsampler block;
/// output_blocks hold `layersPerBlock + 1` blocks per level, the last of each level (but the last level)
/// ending with an upsampler.
///
/// Transformer depths are read per level from the tensors (SD: 1 everywhere; SDXL: 0/2/10 with a 10-deep
/// middle block), and SDXL's added embedding (`label_emb.0.0`/`label_emb.0.2`) is read when present.
///
/// `encoderOnly` layouts are a ControlNet's copy of the encoder (cldm's `ControlNet`): input blocks, middle
/// block, time and added embeddings under the same names, without output blocks and `out`.
struct LDMUNetLayout: Equatable {
    static let component = "unet"
    static let prefix = "model.diffusion_model."

    /// Where the network's tensors start in the file (`prefix` for checkpoints; a ControlNet's own).
    var prefix = Self.prefix
    var component = Self.component
    var encoderOnly = false

    var levels: Int
    var layersPerBlock: Int
    var blockOutChannels: [Int]
    var downHasAttention: [Bool]
    /// In diffusers' up-block order (lowest resolution first).
    var upHasAttention: [Bool]
    var inChannels: Int
    var outChannels: Int
    var contextDim: Int
    var useLinearProjection: Bool
    /// diffusers' `transformer_layers_per_block`, one per level: the depth of the level's transformers where
    /// it has attention; a level without attention reports 1 (diffusers' default), except the last, which
    /// reports the middle block's depth (diffusers builds the mid block with the last level's value).
    var transformerDepths: [Int]
    var midTransformerDepth: Int
    /// `label_emb.0.0.weight`'s [time embedding width, projection_class_embeddings_input_dim]; nil without one.
    var addedEmbedding: AddedEmbedding?

    struct AddedEmbedding: Equatable {
        var inputDim: Int
        var outputDim: Int
    }

    /// SD 1.x/2.x UNets have one depth for every transformer.
    var transformerDepth: Int { transformerDepths.first ?? 1 }

    static func detect(_ source: any TensorSource) throws -> LDMUNetLayout {
        try detect(source, prefix: prefix, component: component, encoderOnly: false)
    }

    /// `encoderOnly`: the file has no output blocks (a ControlNet); `outChannels` is then 0 and `upHasAttention` empty.
    static func detect(_ source: any TensorSource, prefix: String, component: String,
                       encoderOnly: Bool) throws -> LDMUNetLayout {
        let b = MappingBuilder(source: source, component: component, prefix: prefix)
        func fail(_ detail: String) -> NameMappingError { .unrecognisedStructure(component: component, detail: detail) }
        guard let convIn = b.shape("input_blocks.0.0.weight"), convIn.count == 4 else {
            if !source.names.contains(where: { $0.hasPrefix(prefix) }) {
                throw NameMappingError.componentNotFound(component: component, prefix: prefix)
            }
            throw fail("no 4-d input_blocks.0.0.weight (conv_in)")
        }
        let inputs = b.indices(under: "input_blocks.")
        let outputs = b.indices(under: "output_blocks.")
        guard inputs == Array(0..<inputs.count), outputs == Array(0..<outputs.count), inputs.count > 1 else {
            throw fail("input_blocks/output_blocks are not numbered 0..<n")
        }
        if encoderOnly, !outputs.isEmpty { throw fail("a ControlNet has no output_blocks, found \(outputs.count)") }
        let firstDownsampler = inputs.first { b.has("input_blocks.\($0).0.op.weight") }
        let layers = (firstDownsampler ?? inputs.count) - 1
        guard layers >= 1, inputs.count % (layers + 1) == 0 else {
            throw fail("\(inputs.count) input blocks do not form levels of \(layers) layers plus a downsampler")
        }
        let levels = inputs.count / (layers + 1)
        guard encoderOnly || outputs.count == levels * (layers + 1) else {
            throw fail("\(outputs.count) output blocks, expected \(levels * (layers + 1))")
        }
        var channels: [Int] = []
        var downAttention: [Bool] = []
        for level in 0..<levels {
            let first = 1 + level * (layers + 1)
            guard let conv2 = b.shape("input_blocks.\(first).0.out_layers.3.weight"), let c = conv2.first else {
                throw fail("input_blocks.\(first).0 is not a resnet block")
            }
            channels.append(c)
            downAttention.append(b.has("input_blocks.\(first).1.proj_in.weight"))
        }
        let upAttention = encoderOnly ? [] : (0..<levels).map { b.has("output_blocks.\($0 * (layers + 1)).1.proj_in.weight") }
        let out: Int
        if encoderOnly {
            out = 0
        } else {
            guard let convOut = b.shape("out.2.weight"), let width = convOut.first else {
                throw fail("no out.2.weight (conv_out)")
            }
            out = width
        }
        // Any transformer tells the context width and projection style; SD has one in the middle block.
        let attentionRoot = b.has("middle_block.1.proj_in.weight") ? "middle_block.1"
            : (0..<inputs.count).map { "input_blocks.\($0).1" }.first { b.has($0 + ".proj_in.weight") }
        guard let root = attentionRoot, let proj = b.shape(root + ".proj_in.weight"),
              let toK = b.shape(root + ".transformer_blocks.0.attn2.to_k.weight"), toK.count == 2 else {
            throw fail("no cross-attention transformer found")
        }
        func depth(_ root: String) -> Int { b.indices(under: root + ".transformer_blocks.").count }
        let midDepth = depth("middle_block.1")
        var depths: [Int] = []
        for level in 0..<levels {
            if downAttention[level] {
                depths.append(depth("input_blocks.\(1 + level * (layers + 1)).1"))
            } else {
                depths.append(level == levels - 1 && midDepth > 0 ? midDepth : 1)
            }
        }
        // diffusers mirrors the down depths on the way up and gives the mid block the last level's depth;
        // a file that does otherwise has no diffusers config.
        for level in upAttention.indices where upAttention[level] {
            let mirrored = levels - 1 - level
            let up = depth("output_blocks.\(level * (layers + 1)).1")
            guard up == depths[mirrored] else {
                throw fail("output_blocks.\(level * (layers + 1)).1 has \(up) transformer blocks, the mirrored down level \(depths[mirrored])")
            }
        }
        if midDepth > 0, midDepth != depths[levels - 1] {
            throw fail("middle_block.1 has \(midDepth) transformer blocks, the last level \(depths[levels - 1])")
        }
        var added: AddedEmbedding?
        if let linear1 = b.shape("label_emb.0.0.weight") {
            guard linear1.count == 2 else { throw fail("label_emb.0.0.weight is not a 2-d linear weight") }
            added = AddedEmbedding(inputDim: linear1[1], outputDim: linear1[0])
        }
        return LDMUNetLayout(prefix: prefix, component: component, encoderOnly: encoderOnly, levels: levels, layersPerBlock: layers, blockOutChannels: channels,
                             downHasAttention: downAttention, upHasAttention: upAttention, inChannels: convIn[1],
                             outChannels: out, contextDim: toK[1], useLinearProjection: proj.count == 2,
                             transformerDepths: depths, midTransformerDepth: midDepth, addedEmbedding: added)
    }

    /// `addedEmbedding`: whether the family's UNet has one (SDXL's `label_emb.0.0/0.2` → `add_embedding.linear_1/2`);
    /// without, a `label_emb` is refused as unexpected like any stray tensor.
    func mapping(_ source: any TensorSource, addedEmbedding: Bool = false) throws -> MappedTensorSource {
        var b = MappingBuilder(source: source, component: component, prefix: prefix)
        mapEncoder(&b, addedEmbedding: addedEmbedding)
        if !encoderOnly { mapDecoder(&b) }
        return try b.finish()
    }

    /// Time (and added) embedding, conv_in, the input blocks and the middle block.
    func mapEncoder(_ b: inout MappingBuilder, addedEmbedding: Bool) {
        b.mapLayer("time_embed.0", "time_embedding.linear_1")
        b.mapLayer("time_embed.2", "time_embedding.linear_2")
        if addedEmbedding {
            b.mapLayer("label_emb.0.0", "add_embedding.linear_1")
            b.mapLayer("label_emb.0.2", "add_embedding.linear_2")
        }
        b.mapLayer("input_blocks.0.0", "conv_in")
        for level in 0..<levels {
            for j in 0..<layersPerBlock {
                let i = 1 + level * (layersPerBlock + 1) + j
                resnet(&b, "input_blocks.\(i).0", "down_blocks.\(level).resnets.\(j)")
                if downHasAttention[level] {
                    transformer(&b, "input_blocks.\(i).1", "down_blocks.\(level).attentions.\(j)", depth: transformerDepths[level])
                }
            }
            if level < levels - 1 {
                let i = (level + 1) * (layersPerBlock + 1)
                b.mapLayer("input_blocks.\(i).0.op", "down_blocks.\(level).downsamplers.0.conv")
            }
        }
        resnet(&b, "middle_block.0", "mid_block.resnets.0")
        transformer(&b, "middle_block.1", "mid_block.attentions.0", depth: midTransformerDepth)
        resnet(&b, "middle_block.2", "mid_block.resnets.1")
    }

    /// The output blocks and `out`.
    private func mapDecoder(_ b: inout MappingBuilder) {
        for level in 0..<levels {
            for j in 0...layersPerBlock {
                let o = level * (layersPerBlock + 1) + j
                resnet(&b, "output_blocks.\(o).0", "up_blocks.\(level).resnets.\(j)")
                if upHasAttention[level] {
                    transformer(&b, "output_blocks.\(o).1", "up_blocks.\(level).attentions.\(j)",
                                depth: transformerDepths[levels - 1 - level])
                }
                if level < levels - 1, j == layersPerBlock {
                    let slot = upHasAttention[level] ? 2 : 1
                    b.mapLayer("output_blocks.\(o).\(slot).conv", "up_blocks.\(level).upsamplers.0.conv")
                }
            }
        }
        b.mapLayer("out.0", "conv_norm_out")
        b.mapLayer("out.2", "conv_out")
    }

    /// ResBlock: in_layers = (GroupNorm, SiLU, conv), emb_layers = (SiLU, linear), out_layers = (GroupNorm, SiLU, dropout, conv).
    private func resnet(_ b: inout MappingBuilder, _ ldm: String, _ diffusers: String) {
        b.mapLayer(ldm + ".in_layers.0", diffusers + ".norm1")
        b.mapLayer(ldm + ".in_layers.2", diffusers + ".conv1")
        b.mapLayer(ldm + ".emb_layers.1", diffusers + ".time_emb_proj")
        b.mapLayer(ldm + ".out_layers.0", diffusers + ".norm2")
        b.mapLayer(ldm + ".out_layers.3", diffusers + ".conv2")
        // A channel-changing block needs its 1x1 shortcut; others must not have one (strictness catches it).
        let changes = b.shape(ldm + ".in_layers.2.weight")?[1] != b.shape(ldm + ".out_layers.3.weight")?[0]
        b.mapLayer(ldm + ".skip_connection", diffusers + ".conv_shortcut", required: changes)
    }

    /// SpatialTransformer: identical names in both layouts; q/k/v projections have no bias.
    private func transformer(_ b: inout MappingBuilder, _ ldm: String, _ diffusers: String, depth: Int) {
        b.mapLayer(ldm + ".norm", diffusers + ".norm")
        b.mapLayer(ldm + ".proj_in", diffusers + ".proj_in")
        for k in 0..<depth {
            let block = ".transformer_blocks.\(k)"
            for attention in [".attn1", ".attn2"] {
                for projection in [".to_q", ".to_k", ".to_v"] {
                    b.map(ldm + block + attention + projection + ".weight", diffusers + block + attention + projection + ".weight")
                }
                b.mapLayer(ldm + block + attention + ".to_out.0", diffusers + block + attention + ".to_out.0")
            }
            for norm in [".norm1", ".norm2", ".norm3"] { b.mapLayer(ldm + block + norm, diffusers + block + norm) }
            b.mapLayer(ldm + block + ".ff.net.0.proj", diffusers + block + ".ff.net.0.proj")
            b.mapLayer(ldm + block + ".ff.net.2", diffusers + block + ".ff.net.2")
        }
        b.mapLayer(ldm + ".proj_out", diffusers + ".proj_out")
    }
}
