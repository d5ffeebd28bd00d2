/// A ControlNet single file in the original layout (cldm's `ControlNet`, lllyasviel's 1.0/1.1 files and the
/// SDXL ones in that layout): under `control_model.` or with bare names, the UNet's encoder copy
/// (`time_embed`, `label_emb`, `input_blocks`, `middle_block`, read through `LDMUNetLayout`'s tables), the hint
/// block `input_hint_block` (convolutions at the even indices, SiLU between them), one 1×1 `zero_convs.i.0` per
/// skip connection and `middle_block_out.0`. Everything the diffusers config needs but the hint block's and the
/// encoder's hyper-parameters (head counts, norm groups) is read from the shapes.
public struct LDMControlNetLayout: Equatable, Sendable {
    public static let component = "controlnet"
    /// lllyasviel's files; other tools strip it.
    public static let controlModelPrefix = "control_model."

    /// Where the ControlNet's tensors start: `control_model.` or "" (bare names).
    public let prefix: String
    let encoder: LDMUNetLayout
    /// Channels of the control image (`input_hint_block.0`'s input).
    public let hintChannels: Int
    /// Widths of the hint block's levels (diffusers' `conditioning_embedding_out_channels`).
    public let hintBlockChannels: [Int]

    public var inChannels: Int { encoder.inChannels }
    public var blockOutChannels: [Int] { encoder.blockOutChannels }
    public var layersPerBlock: Int { encoder.layersPerBlock }
    public var downHasAttention: [Bool] { encoder.downHasAttention }
    public var contextDim: Int { encoder.contextDim }
    public var useLinearProjection: Bool { encoder.useLinearProjection }
    /// diffusers' `transformer_layers_per_block` (see `LDMUNetLayout.transformerDepths`).
    public var transformerDepths: [Int] { encoder.transformerDepths }
    /// `label_emb.0.0.weight`'s input width (SDXL's added embedding), nil without one.
    public var addedEmbeddingInputDim: Int? { encoder.addedEmbedding?.inputDim }

    /// Whether a file's tensors look like a ControlNet in this layout (a hint block under either prefix).
    public static func recognises(_ source: any TensorSource) -> Bool {
        source.shape(of: controlModelPrefix + "input_hint_block.0.weight") != nil
            || source.shape(of: "input_hint_block.0.weight") != nil
    }

    public static func detect(_ source: any TensorSource) throws -> LDMControlNetLayout {
        let prefix = source.shape(of: controlModelPrefix + "input_hint_block.0.weight") != nil ? controlModelPrefix : ""
        func fail(_ detail: String) -> NameMappingError { .unrecognisedStructure(component: component, detail: detail) }
        guard let first = source.shape(of: prefix + "input_hint_block.0.weight") else {
            throw NameMappingError.componentNotFound(component: component, prefix: prefix + "input_hint_block.")
        }
        let encoder = try LDMUNetLayout.detect(source, prefix: prefix, component: component, encoderOnly: true)
        let b = MappingBuilder(source: source, component: component, prefix: prefix)
        // conv_in, then two convolutions per level after the first, then conv_out: 2 × levels convolutions.
        let convs = b.indices(under: "input_hint_block.")
        guard convs.count >= 2, convs.count % 2 == 0, convs == (0..<convs.count).map({ 2 * $0 }) else {
            throw fail("input_hint_block convolutions are not at 0, 2, 4, … in pairs (found \(convs))")
        }
        guard first.count == 4, first[2] == 3, first[3] == 3 else {
            throw fail("input_hint_block.0.weight has shape \(first), expected a 3×3 convolution")
        }
        var widths = [first[0]]
        for k in 0..<(convs.count / 2 - 1) {
            guard let down = b.shape("input_hint_block.\(4 * k + 4).weight"), down.count == 4 else {
                throw fail("input_hint_block.\(4 * k + 4) is not a convolution")
            }
            widths.append(down[0])
        }
        return LDMControlNetLayout(prefix: prefix, encoder: encoder, hintChannels: first[1], hintBlockChannels: widths)
    }

    /// The file's ControlNet under diffusers' `ControlNetModel` names, strictly: a tensor under `prefix` that no
    /// rule consumes fails (with bare names that is every tensor of the file).
    public func mapping(_ source: any TensorSource) throws -> MappedTensorSource {
        var b = MappingBuilder(source: source, component: Self.component, prefix: prefix)
        encoder.mapEncoder(&b, addedEmbedding: encoder.addedEmbedding != nil)
        let convs = 2 * hintBlockChannels.count
        b.mapLayer("input_hint_block.0", "controlnet_cond_embedding.conv_in")
        for j in 0..<(convs - 2) {
            b.mapLayer("input_hint_block.\(2 * j + 2)", "controlnet_cond_embedding.blocks.\(j)")
        }
        b.mapLayer("input_hint_block.\(2 * convs - 2)", "controlnet_cond_embedding.conv_out")
        for k in b.indices(under: "zero_convs.") {
            b.mapLayer("zero_convs.\(k).0", "controlnet_down_blocks.\(k)")
        }
        b.mapLayer("middle_block_out.0", "controlnet_mid_block")
        return try b.finish()
    }
}
