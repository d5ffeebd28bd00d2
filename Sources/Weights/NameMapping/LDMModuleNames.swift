import Tensor

/// LDM/sgm module paths of a UNet (`input_blocks.4.1.proj_in`) with the diffusers module each one is
/// (`down_blocks.1.attentions.0.proj_in`), from the block structure alone, for adapters keyed by LDM names
/// (kohya SDXL LoRAs, A1111's `diffusion_model_*`). It runs the single-file loader's own table
/// (`LDMUNetLayout.mapping`) over a source that claims every name, so the two can never disagree.
public enum LDMModuleNames {
    /// - Parameters:
    ///   - transformerDepths: diffusers' `transformer_layers_per_block`, one per level.
    ///   - midTransformerDepth: the mid block's transformer depth (0: none).
    public static func unet(layersPerBlock: Int, downHasAttention: [Bool], upHasAttention: [Bool],
                            transformerDepths: [Int], midTransformerDepth: Int,
                            addedEmbedding: Bool) -> [String: String] {
        let levels = downHasAttention.count
        guard levels > 0, upHasAttention.count == levels, transformerDepths.count == levels, layersPerBlock > 0 else { return [:] }
        let layout = LDMUNetLayout(levels: levels, layersPerBlock: layersPerBlock, blockOutChannels: Array(repeating: 1, count: levels),
                                   downHasAttention: downHasAttention, upHasAttention: upHasAttention, inChannels: 1,
                                   outChannels: 1, contextDim: 1, useLinearProjection: false,
                                   transformerDepths: transformerDepths, midTransformerDepth: midTransformerDepth,
                                   addedEmbedding: addedEmbedding ? .init(inputDim: 1, outputDim: 1) : nil)
        guard let mapped = try? layout.mapping(EveryName(), addedEmbedding: addedEmbedding) else { return [:] }
        var modules: [String: String] = [:]
        for (diffusers, origin) in mapped.table where diffusers.hasSuffix(".weight") {
            let ldm = String(origin.name.dropFirst(LDMUNetLayout.prefix.count).dropLast(".weight".count))
            modules[ldm] = String(diffusers.dropLast(".weight".count))
        }
        return modules
    }

    /// Answers every shape query with one shape and lists no names, so every rule maps and none is "unexpected".
    private struct EveryName: TensorSource {
        var names: [String] { [] }
        func shape(of name: String) -> [Int]? { [1, 1, 1, 1] }
        func tensor(_ name: String) throws -> Tensor { Tensor(shape: [1, 1, 1, 1]) }
    }
}
