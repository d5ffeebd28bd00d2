import Tensor

/// SDXL's added embedding (`addition_embed_type "text_time"`): every time id gets the sinusoidal
/// `add_time_proj` embedding, the flattened embeddings follow the pooled `text_embeds`, and
/// `add_embedding` (linear_1 → SiLU → linear_2) maps the row to an addition to the time embedding.
///
/// How many time ids there are (6 for the base, 5 for the refiner's aesthetic score) is not in the config:
/// it follows from `inputWidth` and the pooled width, and is checked per call.
public struct TextTimeEmbedding: Sendable {
    /// `projection_class_embeddings_input_dim`, the width of `add_embedding.linear_1`'s input.
    public let inputWidth: Int
    /// `addition_time_embed_dim`: channels per time id.
    public let timeIDWidth: Int
    let flipSinToCos: Bool
    let freqShift: Float
    let linear1: Linear
    let linear2: Linear

    init(_ scope: WeightScope, config: UNetConfig, timeEmbeddingDim: Int) throws {
        guard let inputWidth = config.projectionClassEmbeddingsInputDim else {
            throw ModelLoadError.invalidConfig(
                "addition_embed_type \"text_time\" needs projection_class_embeddings_input_dim")
        }
        guard let timeIDWidth = config.additionTimeEmbedDim else {
            throw ModelLoadError.invalidConfig("addition_embed_type \"text_time\" needs addition_time_embed_dim")
        }
        try requirePositive([inputWidth], "projection_class_embeddings_input_dim")
        try requirePositive([timeIDWidth], "addition_time_embed_dim")
        self.inputWidth = inputWidth
        self.timeIDWidth = timeIDWidth
        // diffusers builds add_time_proj with the UNet's own flip_sin_to_cos and freq_shift.
        flipSinToCos = config.flipSinToCos
        freqShift = config.freqShift
        // The shapes checked here are what ties projection_class_embeddings_input_dim to the weights.
        linear1 = try Linear(scope["linear_1"], input: inputWidth, output: timeEmbeddingDim)
        linear2 = try Linear(scope["linear_2"], input: timeEmbeddingDim, output: timeEmbeddingDim)
    }

    /// The number of time ids a pooled embedding of `textEmbedsWidth` channels leaves room for, or nil
    /// when the remainder is not a whole number of ids.
    public func timeIDCount(textEmbedsWidth: Int) -> Int? {
        let rest = inputWidth - textEmbedsWidth
        guard rest >= 0, rest % timeIDWidth == 0 else { return nil }
        return rest / timeIDWidth
    }

    /// The addition to the time embedding [N, time_embed_dim] for `added` (batch `batch`).
    func callAsFunction(_ added: AddedConditioning, batch: Int) throws -> Tensor {
        let text = added.textEmbeds
        let ids = added.timeIDs
        guard text.shape.count == 2, ids.shape.count == 2, text.shape[0] == batch, ids.shape[0] == batch,
              text.shape[1] + ids.shape[1] * timeIDWidth == inputWidth else {
            throw UNetError.addedConditioningShape(textEmbeds: text.shape, timeIDs: ids.shape, batch: batch,
                                                   inputWidth: inputWidth, timeIDWidth: timeIDWidth)
        }
        // [N·K, W] in row order is [N, K·W] once reshaped: each sample's ids stay together, as torch's flatten.
        let timeEmbeds = timestepEmbedding(timesteps: ids.scalars, dim: timeIDWidth, flipSinToCos: flipSinToCos,
                                           downscaleFreqShift: freqShift)
            .reshaped([batch, ids.shape[1] * timeIDWidth])
        return linear2(silu(linear1(concat([text, timeEmbeds], axis: 1))))
    }
}
