import Weights

/// A ControlNet single file under diffusers' own names (`controlnet_cond_embedding.*`, `down_blocks.*`, …) without its
/// `config.json`, as many SDXL ControlNets are shared: the structure read from tensor names and shapes. Like the
/// original layout, the head counts and norm groups come from the family's conventions.
struct DiffusersControlNetStructure {
    static let marker = "controlnet_cond_embedding.conv_in.weight"

    var inChannels: Int
    var blockOutChannels: [Int]
    var layersPerBlock: Int
    var downHasAttention: [Bool]
    var transformerDepths: [Int]
    var contextDim: Int
    var useLinearProjection: Bool
    var addedEmbeddingInputDim: Int?
    var hintChannels: Int
    var hintBlockChannels: [Int]

    static func recognises(_ source: any TensorSource) -> Bool { source.shape(of: marker) != nil }

    static func detect(_ source: any TensorSource, path: String) throws -> DiffusersControlNetStructure {
        func fail(_ detail: String) -> CheckpointError {
            .unsupportedConfig(path: path, reason: "diffusers-named ControlNet: \(detail)")
        }
        func indices(_ stem: String) -> [Int] {
            var found = Set<Int>()
            for name in source.names where name.hasPrefix(stem) {
                let rest = name.dropFirst(stem.count)
                if let dot = rest.firstIndex(of: "."), let k = Int(rest[..<dot]) { found.insert(k) }
            }
            return found.sorted()
        }
        guard let convIn = source.shape(of: "conv_in.weight"), convIn.count == 4,
              let hintIn = source.shape(of: marker), hintIn.count == 4 else {
            throw fail("no 4-d conv_in.weight / \(marker)")
        }
        let levels = indices("down_blocks.")
        guard !levels.isEmpty, levels == Array(0..<levels.count) else { throw fail("down_blocks are not numbered 0..<n") }
        let layers = indices("down_blocks.0.resnets.").count
        guard layers > 0 else { throw fail("down_blocks.0 has no resnets") }
        var channels: [Int] = [], attention: [Bool] = [], depths: [Int] = []
        for level in levels {
            guard let conv2 = source.shape(of: "down_blocks.\(level).resnets.0.conv2.weight"), let c = conv2.first else {
                throw fail("down_blocks.\(level).resnets.0 is not a resnet")
            }
            channels.append(c)
            let hasAttention = source.shape(of: "down_blocks.\(level).attentions.0.proj_in.weight") != nil
            attention.append(hasAttention)
            let depth = indices("down_blocks.\(level).attentions.0.transformer_blocks.").count
            depths.append(hasAttention ? depth : 1)
        }
        // diffusers builds the mid block with the last level's depth; a last level without attention takes the mid's.
        let midDepth = indices("mid_block.attentions.0.transformer_blocks.").count
        if let last = depths.indices.last, !attention[last], midDepth > 0 { depths[last] = midDepth }
        guard let proj = source.shape(of: "mid_block.attentions.0.proj_in.weight"),
              let toK = source.shape(of: "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight"), toK.count == 2 else {
            throw fail("no mid-block cross-attention")
        }
        let hintBlocks = indices("controlnet_cond_embedding.blocks.")
        guard hintBlocks.count % 2 == 0, hintBlocks == Array(0..<hintBlocks.count) else {
            throw fail("controlnet_cond_embedding.blocks are not pairs numbered 0..<n")
        }
        var widths = [hintIn[0]]
        for k in stride(from: 1, to: hintBlocks.count, by: 2) {
            guard let down = source.shape(of: "controlnet_cond_embedding.blocks.\(k).weight"), let w = down.first else {
                throw fail("controlnet_cond_embedding.blocks.\(k) is not a convolution")
            }
            widths.append(w)
        }
        return DiffusersControlNetStructure(
            inChannels: convIn[1], blockOutChannels: channels, layersPerBlock: layers, downHasAttention: attention,
            transformerDepths: depths, contextDim: toK[1], useLinearProjection: proj.count == 2,
            addedEmbeddingInputDim: source.shape(of: "add_embedding.linear_1.weight")?.last,
            hintChannels: hintIn[1], hintBlockChannels: widths)
    }
}
