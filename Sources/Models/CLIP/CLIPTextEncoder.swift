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
    case layerOutOfRange(layer: Int, layers: Int)
    /// The pooled output is the last layer's: an encoder that stops early does not hold it.
    case pooledNeedsEveryLayer(layersToRun: Int, layers: Int)
    /// A token-embedding override outside its sequence, of the wrong width, or for a sequence not in the batch.
    case badOverride(sequence: Int, position: Int, shape: [Int], reason: String)

    public var description: String {
        switch self {
        case .emptyBatch: return "no token sequences to encode"
        case .emptySequence: return "a token sequence is empty"
        case let .raggedBatch(lengths): return "token sequences have different lengths \(lengths)"
        case let .sequenceTooLong(length, maximum): return "\(length) tokens exceed the \(maximum) positions"
        case let .tokenOutOfRange(id, size): return "token id \(id) outside the vocabulary of \(size)"
        case let .clipSkipOutOfRange(skip, layers): return "clip skip \(skip) outside 1...\(layers)"
        case let .layerOutOfRange(layer, layers): return "hidden-state layer \(layer) outside 0...\(layers)"
        case let .pooledNeedsEveryLayer(run, layers):
            return "the pooled output needs all \(layers) layers; this encoder runs \(run)"
        case let .badOverride(sequence, position, shape, reason):
            return "token embedding override [\(sequence)] at \(position) with shape \(shape): \(reason)"
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
/// consumed but not kept in memory, and so is `text_projection` (it only serves the pooled output of the
/// full tower).
///
/// `text_projection.weight` (transformers' `CLIPTextModelWithProjection`, SDXL's second encoder) is optional:
/// present, it is loaded and shape-checked against `projection_dim`; absent, the pooled output is unprojected.
public struct CLIPTextEncoder: Sendable {
    public let config: CLIPTextConfig
    /// How many transformer layers a forward pass runs (≤ `config.numHiddenLayers`).
    public let layersToRun: Int
    /// Float32 parameters the network holds (layers past `layersToRun` are not held).
    public let parameterCount: Int
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value).
    public var residentBytes: Int { loadedBytes + bf16Packs.bytes }
    /// Bytes of the weights as loaded; the bf16 copies the bf16 path made are in `bf16Packs`.
    let loadedBytes: Int
    let bf16Packs: BF16PackLedger
    /// Bytes of the bf16 weight copies made so far (part of `residentBytes`).
    public var bf16PackBytes: Int { bf16Packs.bytes }
    /// The bf16 copies a bf16 call will still make.
    public var bf16PendingBytes: Int { bf16Packs.pendingBytes }
    let tokenEmbedding: Tensor
    let positionEmbedding: Tensor
    let layers: [CLIPEncoderLayer]
    let finalLayerNorm: LayerNorm
    let textProjection: Linear?
    /// transformers' `eos_token_id`, which picks the pooled position (see `pooledPositions`).
    let eosTokenID: Int32?

    /// `sharingBF16With`: the encoder this one is rebuilt from (a LoRA set's), whose bf16 weight copies it uses
    /// for the weights both hold.
    public init(config: CLIPTextConfig, weights: TensorSource, layersToRun: Int? = nil,
                sharingBF16With base: CLIPTextEncoder? = nil) throws {
        try requirePositive([config.hiddenSize], "hidden_size")
        try requirePositive([config.intermediateSize], "intermediate_size")
        try requirePositive([config.numHiddenLayers], "num_hidden_layers")
        try requirePositive([config.numAttentionHeads], "num_attention_heads")
        try requirePositive([config.vocabSize], "vocab_size")
        try requirePositive([config.maxPositionEmbeddings], "max_position_embeddings")
        let reader = WeightReader(weights, packBF16AtLoad: PrecisionSetting.forRequest(nil) == .bf16,
                                  sharingBF16With: base?.bf16Packs)
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
        // transformers keeps the projection beside the tower, never under "text_model.".
        let projection = WeightScope(reader)["text_projection"]
        let projectionShape = [config.projectionDim ?? config.hiddenSize, config.hiddenSize]
        if reader.contains(projection.name("weight")) {
            if run == config.numHiddenLayers {
                textProjection = try Linear(projection, input: config.hiddenSize, output: projectionShape[0], bias: false)
            } else {
                try projection.validate("weight", shape: projectionShape)
                textProjection = nil
            }
        } else {
            textProjection = nil
        }
        eosTokenID = config.eosTokenId.flatMap { Int32(exactly: $0) }
        try reader.finish()
        self.config = config
        self.layersToRun = run
        parameterCount = reader.loadedElements
        loadedBytes = reader.loadedBytes
        bf16Packs = reader.bf16Packs
    }

    /// Hidden states [B, L, D] for token ids [B][L].
    ///
    /// `clipSkip` counts from the end as UIs do: 1 = the last run layer's output with the final LayerNorm
    /// (`last_hidden_state`, diffusers' `clip_skip=None`); k > 1 = the output of layer `layersToRun - k + 1`
    /// with the final LayerNorm applied, which is diffusers' `clip_skip = k - 1`
    /// (`hidden_states[-(clip_skip + 1)]` then `final_layer_norm`).
    public func encode(ids: [[Int32]], clipSkip: Int = 1) throws -> Tensor {
        try encode(ids: ids, states: .normed(clipSkip: clipSkip), pooled: false).states
    }

    /// The states `states` selects and, when `pooled`, the pooled output, from one pass over the layers.
    /// `overrides[b]` replace token embeddings of sequence b (textual inversion; empty = none).
    public func encode(ids: [[Int32]], states: CLIPHiddenStates, pooled: Bool,
                       overrides: [[TokenEmbeddingOverride]] = []) throws -> CLIPTextEncoding {
        guard let length = ids.first?.count else { throw CLIPTextEncoderError.emptyBatch }
        guard ids.allSatisfy({ $0.count == length }) else {
            throw CLIPTextEncoderError.raggedBatch(lengths: ids.map(\.count))
        }
        guard length > 0 else { throw CLIPTextEncoderError.emptySequence }
        guard length <= config.maxPositionEmbeddings else {
            throw CLIPTextEncoderError.sequenceTooLong(length: length, maximum: config.maxPositionEmbeddings)
        }
        let statesLayer: Int
        switch states {
        case let .normed(clipSkip):
            guard clipSkip >= 1, clipSkip <= layersToRun else {
                throw CLIPTextEncoderError.clipSkipOutOfRange(clipSkip: clipSkip, layers: layersToRun)
            }
            statesLayer = layersToRun - (clipSkip - 1)
        case let .raw(layer):
            guard layer >= 0, layer <= layersToRun else {
                throw CLIPTextEncoderError.layerOutOfRange(layer: layer, layers: layersToRun)
            }
            statesLayer = layer
        }
        if pooled, layersToRun < config.numHiddenLayers {
            throw CLIPTextEncoderError.pooledNeedsEveryLayer(layersToRun: layersToRun, layers: config.numHiddenLayers)
        }
        if let bad = ids.lazy.flatMap({ $0 }).first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw CLIPTextEncoderError.tokenOutOfRange(id: bad, vocabularySize: config.vocabSize)
        }
        try validate(overrides, batch: ids.count, length: length)
        var hidden = embed(ids, length: length, overrides: overrides)
        let mask = Self.causalMask(length)
        var selected: Tensor? = statesLayer == 0 ? hidden : nil
        let lastLayer = pooled ? layersToRun : statesLayer
        for (index, layer) in layers.prefix(lastLayer).enumerated() {
            hidden = layer(hidden, mask: mask)
            if index + 1 == statesLayer { selected = hidden }
        }
        // statesLayer is within 0...layersToRun and the loop ran at least that far, so it was captured.
        guard let chosen = selected else { throw CLIPTextEncoderError.layerOutOfRange(layer: statesLayer, layers: layersToRun) }
        let isNormed: Bool
        if case .normed = states { isNormed = true } else { isNormed = false }
        let output = isNormed ? finalLayerNorm(chosen) : chosen
        guard pooled else { return CLIPTextEncoding(states: output, pooled: nil) }
        // The pooled row reads the normed last layer, which `output` already is for clip skip 1.
        let last = isNormed && statesLayer == layersToRun ? output : finalLayerNorm(hidden)
        let rows = Self.gatherRows(last, positions: pooledPositions(ids))
        return CLIPTextEncoding(states: output, pooled: textProjection.map { $0(rows) } ?? rows)
    }

    /// The EOS position of each sequence, by transformers' rule: legacy configs with `eos_token_id == 2` take
    /// the argmax of the ids (the EOS id is the vocabulary's largest), others the first occurrence of
    /// `eos_token_id` (position 0 when absent, as `argmax` of an all-false row).
    func pooledPositions(_ ids: [[Int32]]) -> [Int] {
        ids.map { sequence in
            guard let eos = eosTokenID, eos != 2 else {
                var best = 0
                for (i, id) in sequence.enumerated() where id > sequence[best] { best = i }
                return best
            }
            return sequence.firstIndex(of: eos) ?? 0
        }
    }

    /// Rows `positions[b]` of x [B, L, D] -> [B, D].
    static func gatherRows(_ x: Tensor, positions: [Int]) -> Tensor {
        let (length, width) = (x.shape[1], x.shape[2])
        var out = Tensor(shape: [positions.count, width])
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (b, p) in positions.enumerated() {
                    for i in 0..<width { dst[b * width + i] = src[(b * length + p) * width + i] }
                }
            }
        }
        return out
    }

    private func validate(_ overrides: [[TokenEmbeddingOverride]], batch: Int, length: Int) throws {
        guard overrides.count <= batch else {
            throw CLIPTextEncoderError.badOverride(sequence: overrides.count - 1, position: 0, shape: [], reason: "only \(batch) sequences")
        }
        for (b, list) in overrides.enumerated() {
            for o in list {
                let shape = o.vectors.shape
                guard shape.count == 2, shape[1] == config.hiddenSize else {
                    throw CLIPTextEncoderError.badOverride(sequence: b, position: o.position, shape: shape,
                                                           reason: "needs [n, \(config.hiddenSize)]")
                }
                guard o.position >= 0, o.position + shape[0] <= length else {
                    throw CLIPTextEncoderError.badOverride(sequence: b, position: o.position, shape: shape,
                                                           reason: "outside the \(length) positions")
                }
            }
        }
    }

    /// token embedding (or its override) + position embedding -> [B, L, D].
    private func embed(_ ids: [[Int32]], length: Int, overrides: [[TokenEmbeddingOverride]]) -> Tensor {
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
                        guard b < overrides.count else { continue }
                        for o in overrides[b] {
                            o.vectors.withUnsafeBufferPointer { v in
                                for r in 0..<o.vectors.shape[0] {
                                    let p = o.position + r
                                    let row = (b * length + p) * d
                                    for i in 0..<d { dst[row + i] = v[r * d + i] + positions[p * d + i] }
                                }
                            }
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
