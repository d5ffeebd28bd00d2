import Tensor
import Weights

/// Errors of a text-encoder forward pass (bad token ids are input data, never a crash).
public enum CLIPTextEncoderError: Error, Equatable, CustomStringConvertible {
    case emptyBatch
    case emptySequence
    case raggedBatch(lengths: [Int])
    case sequenceTooLong(length: Int, maximum: Int)
    case tokenOutOfRange(id: Int32, vocabularySize: Int)
    case clipSkipOutOfRange(clipSkip: Int, layers: Int)

    public var description: String {
        switch self {
        case .emptyBatch: return "no token sequences to encode"
        case .emptySequence: return "a token sequence is empty"
        case let .raggedBatch(lengths): return "token sequences have different lengths \(lengths)"
        case let .sequenceTooLong(length, maximum): return "\(length) tokens exceed the \(maximum) positions"
        case let .tokenOutOfRange(id, size): return "token id \(id) outside the vocabulary of \(size)"
        case let .clipSkipOutOfRange(skip, layers): return "clip skip \(skip) outside 1...\(layers)"
        }
    }
}

/// transformers' `CLIPTextModel` text tower (SD1: OpenAI CLIP ViT-L/14; SD2: OpenCLIP ViT-H/14).
///
/// Expects transformers names (`text_model.embeddings.token_embedding.weight`, …, with or without the
/// `text_model.` prefix).
/// `layersToRun` lets a checkpoint that carries more layers than the pipeline uses be loaded strictly:
/// SD2 single-file checkpoints hold all 24 OpenCLIP layers while SD2 uses the 23rd layer's output, which
/// diffusers folders express by shipping only 23 layers. Layers past `layersToRun` are shape-checked and
/// consumed but not kept in memory.
public struct CLIPTextEncoder: Sendable {
    public let config: CLIPTextConfig
    /// How many transformer layers a forward pass runs (≤ `config.numHiddenLayers`).
    public let layersToRun: Int
    /// Float32 parameters the network holds (layers past `layersToRun` are not held).
    public let parameterCount: Int
    let tokenEmbedding: Tensor
    let positionEmbedding: Tensor
    let layers: [CLIPEncoderLayer]
    let finalLayerNorm: LayerNorm

    public init(config: CLIPTextConfig, weights: TensorSource, layersToRun: Int? = nil) throws {
        try requirePositive([config.hiddenSize], "hidden_size")
        try requirePositive([config.intermediateSize], "intermediate_size")
        try requirePositive([config.numHiddenLayers], "num_hidden_layers")
        try requirePositive([config.numAttentionHeads], "num_attention_heads")
        try requirePositive([config.vocabSize], "vocab_size")
        try requirePositive([config.maxPositionEmbeddings], "max_position_embeddings")
        let reader = WeightReader(weights)
        let run = layersToRun ?? config.numHiddenLayers
        guard run >= 1, run <= config.numHiddenLayers else {
            throw ModelLoadError.invalidConfig("layersToRun \(run) outside 1...\(config.numHiddenLayers)")
        }
        guard config.numAttentionHeads > 0, config.hiddenSize % config.numAttentionHeads == 0 else {
            throw ModelLoadError.invalidConfig(
                "hidden_size \(config.hiddenSize) not divisible by num_attention_heads \(config.numAttentionHeads)")
        }
        let activation = try Activation(configName: config.hiddenAct, field: "hidden_act")
        // Hub folders and single-file mappings prefix the tower with "text_model."; transformers >= 5.6
        // saves it without. Both name the same tensors, so accept either (never a mix: strictness catches that).
        let prefixed = reader.contains("text_model.embeddings.token_embedding.weight")
        let root = WeightScope(reader, path: prefixed ? "text_model" : "")
        let embeddings = root["embeddings"]
        tokenEmbedding = try embeddings["token_embedding"].tensor(
            "weight", shape: [config.vocabSize, config.hiddenSize])
        positionEmbedding = try embeddings["position_embedding"].tensor(
            "weight", shape: [config.maxPositionEmbeddings, config.hiddenSize])
        // A non-persistent buffer (arange) that older exports still serialise; it holds no weights.
        reader.ignoreIfPresent(embeddings.name("position_ids"))
        var built: [CLIPEncoderLayer] = []
        for index in 0..<config.numHiddenLayers {
            let scope = root["encoder"]["layers"][index]
            if index < run {
                built.append(try CLIPEncoderLayer(scope, config: config, activation: activation))
            } else {
                try CLIPEncoderLayer.validate(scope, config: config)
            }
        }
        layers = built
        finalLayerNorm = try LayerNorm(root["final_layer_norm"], dim: config.hiddenSize, eps: config.layerNormEps)
        try reader.finish()
        self.config = config
        self.layersToRun = run
        parameterCount = reader.loadedElements
    }

    /// Hidden states [B, L, D] for token ids [B][L].
    ///
    /// `clipSkip` counts from the end as UIs do: 1 = the last run layer's output with the final LayerNorm
    /// (`last_hidden_state`, diffusers' `clip_skip=None`); k > 1 = the output of layer `layersToRun - k + 1`
    /// with the final LayerNorm applied, which is diffusers' `clip_skip = k - 1`
    /// (`hidden_states[-(clip_skip + 1)]` then `final_layer_norm`).
    public func encode(ids: [[Int32]], clipSkip: Int = 1) throws -> Tensor {
        guard let length = ids.first?.count else { throw CLIPTextEncoderError.emptyBatch }
        guard ids.allSatisfy({ $0.count == length }) else {
            throw CLIPTextEncoderError.raggedBatch(lengths: ids.map(\.count))
        }
        guard length > 0 else { throw CLIPTextEncoderError.emptySequence }
        guard length <= config.maxPositionEmbeddings else {
            throw CLIPTextEncoderError.sequenceTooLong(length: length, maximum: config.maxPositionEmbeddings)
        }
        guard clipSkip >= 1, clipSkip <= layersToRun else {
            throw CLIPTextEncoderError.clipSkipOutOfRange(clipSkip: clipSkip, layers: layersToRun)
        }
        if let bad = ids.lazy.flatMap({ $0 }).first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw CLIPTextEncoderError.tokenOutOfRange(id: bad, vocabularySize: config.vocabSize)
        }
        var hidden = embed(ids, length: length)
        let mask = Self.causalMask(length)
        for layer in layers.prefix(layersToRun - (clipSkip - 1)) {
            hidden = layer(hidden, mask: mask)
        }
        return finalLayerNorm(hidden)
    }

    /// token embedding + position embedding -> [B, L, D].
    private func embed(_ ids: [[Int32]], length: Int) -> Tensor {
        let d = config.hiddenSize
        var out = Tensor(shape: [ids.count, length, d])
        tokenEmbedding.withUnsafeBufferPointer { tokens in
            positionEmbedding.withUnsafeBufferPointer { positions in
                out.withUnsafeMutableBufferPointer { dst in
                    for (b, sequence) in ids.enumerated() {
                        for (p, id) in sequence.enumerated() {
                            let row = (b * length + p) * d
                            let t = Int(id) * d
                            let q = p * d
                            for i in 0..<d { dst[row + i] = tokens[t + i] + positions[q + i] }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Additive causal mask [L, L]: 0 where a token may attend (itself and earlier), the most negative
    /// float elsewhere (as transformers does) so a masked score's exp underflows to exactly 0.
    static func causalMask(_ length: Int) -> Tensor {
        var values = [Float](repeating: 0, count: length * length)
        for row in 0..<length {
            for column in (row + 1)..<max(row + 1, length) { values[row * length + column] = -Float.greatestFiniteMagnitude }
        }
        return Tensor(shape: [length, length], values: values)
    }
}
