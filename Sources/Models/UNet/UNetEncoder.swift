import Tensor

/// The encoder half of a `UNet2DConditionModel`: `conv_in`, the time embedding (with SDXL's `add_embedding`),
/// the down blocks and the mid block. The UNet runs it before its up blocks; a ControlNet is this same
/// structure under the same names, with its hint added after `conv_in` and zero convolutions on the outputs,
/// so both build it here from one config.
struct UNetEncoder: Sendable {
    let levels: UNetLevels
    let convIn: Conv2D
    let timeLinear1: Linear
    let timeLinear2: Linear
    /// SDXL's `add_embedding` (with `add_time_proj`); nil for SD 1.x/2.x, which refuse added conditioning.
    let textTimeEmbedding: TextTimeEmbedding?
    let downBlocks: [UNetDownBlock]
    let midBlock: UNetMidBlock?
    let config: UNetConfig

    /// The activations of one pass: the skip connections in order and the mid block's output.
    struct Output {
        var skips: [Tensor]
        var mid: Tensor
        let inputs: UNetStepInputs
    }

    init(config: UNetConfig, root: WeightScope) throws {
        let levels = try UNetLevels(config)
        let channels = levels.channels
        let timeDim = levels.timeDim
        let groups = levels.groups, eps = levels.eps
        convIn = try Conv2D(root["conv_in"], input: config.inChannels, output: channels[0], kernel: config.convInKernel)
        timeLinear1 = try Linear(root["time_embedding"]["linear_1"], input: channels[0], output: timeDim)
        timeLinear2 = try Linear(root["time_embedding"]["linear_2"], input: timeDim, output: timeDim)
        textTimeEmbedding = config.additionEmbedType == "text_time"
            ? try TextTimeEmbedding(root["add_embedding"], config: config, timeEmbeddingDim: timeDim) : nil

        var down: [UNetDownBlock] = []
        var output = channels[0]
        for (i, type) in config.downBlockTypes.enumerated() {
            let input = output
            output = channels[i]
            let scope = root["down_blocks"][i]
            let hasAttention = type == "CrossAttnDownBlock2D"
            var resnets: [ResnetBlock2D] = []
            var attentions: [Transformer2D] = []
            for j in 0..<levels.layers[i] {
                resnets.append(try ResnetBlock2D(scope["resnets"][j], input: j == 0 ? input : output, output: output,
                                                 timeEmbeddingChannels: timeDim, groups: groups, eps: eps))
                if hasAttention {
                    attentions.append(try levels.transformer(scope["attentions"][j], level: i, config: config))
                }
            }
            let downsampler = i == levels.count - 1 ? nil
                : try Downsample2D(scope["downsamplers"][0], channels: output, padding: config.downsamplePadding)
            down.append(UNetDownBlock(resnets: resnets, attentions: attentions, downsampler: downsampler))
        }
        downBlocks = down

        if config.midBlockType != nil {
            let scope = root["mid_block"]
            let last = levels.count - 1
            let c = channels[last]
            let scale = config.midBlockScaleFactor
            midBlock = UNetMidBlock(
                first: try ResnetBlock2D(scope["resnets"][0], input: c, output: c, timeEmbeddingChannels: timeDim,
                                         groups: groups, eps: eps, outputScale: scale),
                attentions: [try levels.transformer(scope["attentions"][0], level: last, config: config)],
                resnets: [try ResnetBlock2D(scope["resnets"][1], input: c, output: c, timeEmbeddingChannels: timeDim,
                                            groups: groups, eps: eps, outputScale: scale)])
        } else {
            midBlock = nil
        }
        self.levels = levels
        self.config = config
    }

    /// Skip connections a pass produces: conv_in's output, every down-block resnet (with its transformer)
    /// and every downsampler.
    var skipConnectionCount: Int {
        1 + downBlocks.reduce(0) { $0 + $1.resnets.count + ($1.downsampler == nil ? 0 : 1) }
    }

    /// Checks the inputs of a pass over `latents` [N, in, H, W] and returns what every block needs:
    /// SiLU(time embedding, plus the added embedding) and the context.
    func stepInputs(latents: Tensor, timesteps: [Float], context: Tensor,
                    added: AddedConditioning?) throws -> UNetStepInputs {
        let shape = latents.shape
        guard shape.count == 4, shape[1] == config.inChannels, shape[0] > 0, shape[2] > 0, shape[3] > 0 else {
            throw UNetError.latentShape(found: shape, expectedChannels: config.inChannels)
        }
        let batch = shape[0]
        guard timesteps.count == 1 || timesteps.count == batch else {
            throw UNetError.timestepCount(found: timesteps.count, batch: batch)
        }
        guard context.shape.count == 3, context.shape[0] == batch, context.shape[1] > 0,
              context.shape[2] == levels.contextDim else {
            throw UNetError.contextShape(found: context.shape, batch: batch, expectedDim: levels.contextDim)
        }
        let addedEmbedding: Tensor?
        switch (textTimeEmbedding, added) {
        case (nil, nil): addedEmbedding = nil
        case (nil, .some): throw UNetError.addedConditioningUnsupported
        case (.some, nil): throw UNetError.addedConditioningMissing
        case let (.some(embedding), .some(added)): addedEmbedding = try embedding(added, batch: batch)
        }
        let perSample = timesteps.count == batch ? timesteps : Array(repeating: timesteps[0], count: batch)
        let projected = timestepEmbedding(timesteps: perSample, dim: levels.channels[0],
                                          flipSinToCos: config.flipSinToCos,
                                          downscaleFreqShift: config.freqShift)
        var timeEmbedding = timeLinear2(silu(timeLinear1(projected)))
        if let addedEmbedding { timeEmbedding += addedEmbedding }
        return UNetStepInputs(activatedTimeEmbedding: silu(timeEmbedding), context: context)
    }

    /// conv_in (plus `afterConvIn`, a ControlNet's embedded hint, when given), the down blocks and the mid
    /// block. `adapterFeatures`: T2I-Adapter features, one per down block, added where diffusers adds them (see
    /// `UNetConditioning.adapterFeatures`), a leftover one of the mid output's shape after the mid block.
    /// `latents` must have passed `stepInputs`.
    func callAsFunction(_ latents: Tensor, _ inputs: UNetStepInputs, afterConvIn: Tensor? = nil,
                        adapterFeatures: [Tensor]? = nil) throws -> Output {
        let halves = !(downBlocks.first?.resnets.isEmpty ?? true)
            && IdenticalHalves.hold([latents, inputs.activatedTimeEmbedding] + (afterConvIn.map { [$0] } ?? []))
        if halves { IdenticalHalves.sharedPassCount.wrappingAdd(1, ordering: .relaxed) }
        let input = halves ? IdenticalHalves.firstHalf(latents) : latents
        var h = convIn(config.centerInputSample ? input * 2 + -1 : input)
        if let afterConvIn {
            let expected = [latents.shape[0]] + h.shape.dropFirst()
            guard afterConvIn.shape == expected else {
                throw UNetError.controlResidualShape(index: 0, found: afterConvIn.shape, expected: expected)
            }
            h += halves ? IdenticalHalves.firstHalf(afterConvIn) : afterConvIn
        }
        var skips: [Tensor] = [halves ? IdenticalHalves.doubled(h) : h]
        var features = adapterFeatures ?? []
        for (index, block) in downBlocks.enumerated() {
            var feature: Tensor?
            if !features.isEmpty {
                let expected = block.adapterFeatureShape(input: [latents.shape[0]] + h.shape.dropFirst(), channels: levels.channels[index])
                let next = features.removeFirst()
                guard next.shape == expected else {
                    throw UNetError.adapterFeatureShape(block: index, found: next.shape, expected: expected)
                }
                feature = next
            }
            h = block(h, inputs, skips: &skips, adapterFeature: feature, halvesOf: halves && index == 0)
        }
        if let midBlock {
            h = midBlock(h, inputs)
            // T2I-Adapter-XL: a feature left over with the mid output's shape is added to it.
            if let next = features.first, next.shape == h.shape { h += next }
        }
        return Output(skips: skips, mid: h, inputs: inputs)
    }
}

extension UNetLevels {
    /// The transformer of level `level` (its heads and depth), as down, mid and up blocks build them.
    func transformer(_ scope: WeightScope, level: Int, config: UNetConfig, channels: Int? = nil) throws -> Transformer2D {
        try Transformer2D(scope, channels: channels ?? self.channels[level], heads: heads[level],
                          contextDim: contextDim, layers: transformerDepth[level], groups: groups,
                          linearProjection: config.useLinearProjection)
    }
}
