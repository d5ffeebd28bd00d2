/// The structure of an LDM `AutoencoderKL` (first_stage_model) and the table presenting it as diffusers'
/// `AutoencoderKL`. LDM numbers decoder levels from the lowest resolution up (`decoder.up.0` is the last
/// diffusers up block) and stores the mid attention's q/k/v/proj_out as 1x1 convolutions.
struct LDMVAELayout: Equatable {
    static let component = "vae"
    static let prefix = "first_stage_model."

    var levels: Int
    var layersPerBlock: Int
    var blockOutChannels: [Int]
    var inChannels: Int
    var outChannels: Int
    var latentChannels: Int

    static func detect(_ source: any TensorSource) throws -> LDMVAELayout {
        let b = MappingBuilder(source: source, component: component, prefix: prefix)
        func fail(_ detail: String) -> NameMappingError { .unrecognisedStructure(component: component, detail: detail) }
        guard let convIn = b.shape("encoder.conv_in.weight"), convIn.count == 4 else {
            if !source.names.contains(where: { $0.hasPrefix(prefix) }) {
                throw NameMappingError.componentNotFound(component: component, prefix: prefix)
            }
            throw fail("no 4-d encoder.conv_in.weight")
        }
        let levels = b.indices(under: "encoder.down.")
        let blocks = b.indices(under: "encoder.down.0.block.")
        guard !levels.isEmpty, levels == Array(0..<levels.count), !blocks.isEmpty, blocks == Array(0..<blocks.count) else {
            throw fail("encoder.down.N.block.M are not numbered 0..<n")
        }
        var channels: [Int] = []
        for level in levels {
            guard let c = b.shape("encoder.down.\(level).block.0.conv2.weight")?.first else {
                throw fail("no encoder.down.\(level).block.0.conv2.weight")
            }
            channels.append(c)
        }
        guard let quant = b.shape("quant_conv.weight")?.first, quant % 2 == 0,
              let out = b.shape("decoder.conv_out.weight")?.first else {
            throw fail("no quant_conv / decoder.conv_out weights")
        }
        return LDMVAELayout(levels: levels.count, layersPerBlock: blocks.count, blockOutChannels: channels,
                            inChannels: convIn[1], outChannels: out, latentChannels: quant / 2)
    }

    func mapping(_ source: any TensorSource) throws -> MappedTensorSource {
        var b = MappingBuilder(source: source, component: Self.component, prefix: Self.prefix)
        for part in ["encoder", "decoder"] {
            b.mapLayer(part + ".conv_in", part + ".conv_in")
            b.mapLayer(part + ".conv_out", part + ".conv_out")
            b.mapLayer(part + ".norm_out", part + ".conv_norm_out")
            resnet(&b, part + ".mid.block_1", part + ".mid_block.resnets.0")
            attention(&b, part + ".mid.attn_1", part + ".mid_block.attentions.0")
            resnet(&b, part + ".mid.block_2", part + ".mid_block.resnets.1")
        }
        for level in 0..<levels {
            for j in 0..<layersPerBlock {
                resnet(&b, "encoder.down.\(level).block.\(j)", "encoder.down_blocks.\(level).resnets.\(j)")
            }
            if level < levels - 1 {
                b.mapLayer("encoder.down.\(level).downsample.conv", "encoder.down_blocks.\(level).downsamplers.0.conv")
            }
        }
        for upBlock in 0..<levels {
            let level = levels - 1 - upBlock
            for j in 0...layersPerBlock {
                resnet(&b, "decoder.up.\(level).block.\(j)", "decoder.up_blocks.\(upBlock).resnets.\(j)")
            }
            if level > 0 {
                b.mapLayer("decoder.up.\(level).upsample.conv", "decoder.up_blocks.\(upBlock).upsamplers.0.conv")
            }
        }
        b.mapLayer("quant_conv", "quant_conv")
        b.mapLayer("post_quant_conv", "post_quant_conv")
        // Some checkpoints saved from training keep the autoencoder's training loss (LPIPS network,
        // discriminator, logvar) under first_stage_model.loss: not part of the model, dropped.
        b.ignoreSubtree("loss.")
        return try b.finish()
    }

    private func resnet(_ b: inout MappingBuilder, _ ldm: String, _ diffusers: String) {
        b.mapLayer(ldm + ".norm1", diffusers + ".norm1")
        b.mapLayer(ldm + ".conv1", diffusers + ".conv1")
        b.mapLayer(ldm + ".norm2", diffusers + ".norm2")
        b.mapLayer(ldm + ".conv2", diffusers + ".conv2")
        let changes = b.shape(ldm + ".conv1.weight")?[1] != b.shape(ldm + ".conv2.weight")?[0]
        b.mapLayer(ldm + ".nin_shortcut", diffusers + ".conv_shortcut", required: changes)
    }

    private func attention(_ b: inout MappingBuilder, _ ldm: String, _ diffusers: String) {
        b.mapLayer(ldm + ".norm", diffusers + ".group_norm")
        b.mapLayer(ldm + ".q", diffusers + ".to_q", weight: .squeezeConv1x1)
        b.mapLayer(ldm + ".k", diffusers + ".to_k", weight: .squeezeConv1x1)
        b.mapLayer(ldm + ".v", diffusers + ".to_v", weight: .squeezeConv1x1)
        b.mapLayer(ldm + ".proj_out", diffusers + ".to_out.0", weight: .squeezeConv1x1)
    }
}
