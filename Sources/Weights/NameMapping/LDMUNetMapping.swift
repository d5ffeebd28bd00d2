/// The block structure of an LDM `openaimodel.UNetModel` read from its tensor names and shapes, and the
/// table presenting it as diffusers' `UNet2DConditionModel`.
///
/// LDM numbers blocks flat: input_blocks.0 is conv_in, then per resolution level `layersPerBlock`
/// (resnet, optional transformer) blocks and, except on the last level, one downsampler block;
/// output_blocks hold `layersPerBlock + 1` blocks per level, the last of each level (but the last level)
/// ending with an upsampler.
struct LDMUNetLayout: Equatable {
    static let component = "unet"
    static let prefix = "model.diffusion_model."

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
    var transformerDepth: Int

    static func detect(_ source: any TensorSource) throws -> LDMUNetLayout {
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
        let firstDownsampler = inputs.first { b.has("input_blocks.\($0).0.op.weight") }
        let layers = (firstDownsampler ?? inputs.count) - 1
        guard layers >= 1, inputs.count % (layers + 1) == 0 else {
            throw fail("\(inputs.count) input blocks do not form levels of \(layers) layers plus a downsampler")
        }
        let levels = inputs.count / (layers + 1)
        guard outputs.count == levels * (layers + 1) else {
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
        let upAttention = (0..<levels).map { b.has("output_blocks.\($0 * (layers + 1)).1.proj_in.weight") }
        guard let convOut = b.shape("out.2.weight"), let out = convOut.first else { throw fail("no out.2.weight (conv_out)") }
        // Any transformer tells the context width and projection style; SD has one in the middle block.
        let attentionRoot = b.has("middle_block.1.proj_in.weight") ? "middle_block.1"
            : (0..<inputs.count).map { "input_blocks.\($0).1" }.first { b.has($0 + ".proj_in.weight") }
        guard let root = attentionRoot, let proj = b.shape(root + ".proj_in.weight"),
              let toK = b.shape(root + ".transformer_blocks.0.attn2.to_k.weight"), toK.count == 2 else {
            throw fail("no cross-attention transformer found")
        }
        let depth = b.indices(under: root + ".transformer_blocks.").count
        return LDMUNetLayout(levels: levels, layersPerBlock: layers, blockOutChannels: channels,
                             downHasAttention: downAttention, upHasAttention: upAttention, inChannels: convIn[1],
                             outChannels: out, contextDim: toK[1], useLinearProjection: proj.count == 2,
                             transformerDepth: depth)
    }

    func mapping(_ source: any TensorSource) throws -> MappedTensorSource {
        var b = MappingBuilder(source: source, component: Self.component, prefix: Self.prefix)
        b.mapLayer("time_embed.0", "time_embedding.linear_1")
        b.mapLayer("time_embed.2", "time_embedding.linear_2")
        b.mapLayer("input_blocks.0.0", "conv_in")
        for level in 0..<levels {
            for j in 0..<layersPerBlock {
                let i = 1 + level * (layersPerBlock + 1) + j
                resnet(&b, "input_blocks.\(i).0", "down_blocks.\(level).resnets.\(j)")
                if downHasAttention[level] { transformer(&b, "input_blocks.\(i).1", "down_blocks.\(level).attentions.\(j)") }
            }
            if level < levels - 1 {
                let i = (level + 1) * (layersPerBlock + 1)
                b.mapLayer("input_blocks.\(i).0.op", "down_blocks.\(level).downsamplers.0.conv")
            }
        }
        resnet(&b, "middle_block.0", "mid_block.resnets.0")
        transformer(&b, "middle_block.1", "mid_block.attentions.0")
        resnet(&b, "middle_block.2", "mid_block.resnets.1")
        for level in 0..<levels {
            for j in 0...layersPerBlock {
                let o = level * (layersPerBlock + 1) + j
                resnet(&b, "output_blocks.\(o).0", "up_blocks.\(level).resnets.\(j)")
                if upHasAttention[level] { transformer(&b, "output_blocks.\(o).1", "up_blocks.\(level).attentions.\(j)") }
                if level < levels - 1, j == layersPerBlock {
                    let slot = upHasAttention[level] ? 2 : 1
                    b.mapLayer("output_blocks.\(o).\(slot).conv", "up_blocks.\(level).upsamplers.0.conv")
                }
            }
        }
        b.mapLayer("out.0", "conv_norm_out")
        b.mapLayer("out.2", "conv_out")
        return try b.finish()
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
    private func transformer(_ b: inout MappingBuilder, _ ldm: String, _ diffusers: String) {
        b.mapLayer(ldm + ".norm", diffusers + ".norm")
        b.mapLayer(ldm + ".proj_in", diffusers + ".proj_in")
        for k in 0..<transformerDepth {
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
