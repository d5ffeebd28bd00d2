import Tensor
import Weights

/// diffusers' `UNet2DConditionModel` as Stable Diffusion 1.x/2.x and SDXL configure it (4- or 9-channel
/// input, 1×1-conv or linear transformer projections, any number of levels, per-level head counts and
/// transformer depths, levels with or without attention, SDXL's `text_time` added embedding).
///
/// All weights are resolved into stored tensors at init; `forward` never looks a name up.
public struct UNet: Sendable {
    public let config: UNetConfig
    /// Float32 parameters the network holds (for memory budgets: × 4 bytes).
    public let parameterCount: Int
    let convIn: Conv2D
    let timeLinear1: Linear
    let timeLinear2: Linear
    /// SDXL's `add_embedding` (with `add_time_proj`); nil for SD 1.x/2.x, which refuse added conditioning.
    public let textTimeEmbedding: TextTimeEmbedding?
    let downBlocks: [UNetDownBlock]
    let midBlock: UNetMidBlock?
    let upBlocks: [UNetUpBlock]
    let normOut: GroupNorm
    let convOut: Conv2D
    let contextDim: Int

    public init(config: UNetConfig, weights: TensorSource) throws {
        try Self.checkSupported(config)
        let reader = WeightReader(weights)
        let root = WeightScope(reader)
        let blockCount = config.downBlockTypes.count
        let channels = config.blockOutChannels
        guard channels.count == blockCount, config.upBlockTypes.count == blockCount, blockCount > 0,
              blockCount <= 16 else {
            throw ModelLoadError.invalidConfig(
                "down_block_types (\(blockCount)), up_block_types (\(config.upBlockTypes.count)) and "
                + "block_out_channels (\(channels.count)) must have the same length, 1 to 16")
        }
        // diffusers' naming quirk: without num_attention_heads, attention_head_dim is the number of heads
        // (its transformers then get channels / heads per head, whatever attention_head_dim says).
        let heads = try config.numAttentionHeads?.expanded(to: blockCount, field: "num_attention_heads")
            ?? config.attentionHeadDim.expanded(to: blockCount, field: "attention_head_dim")
        let layers = try config.layersPerBlock.expanded(to: blockCount, field: "layers_per_block")
        let crossDims = try config.crossAttentionDim.expanded(to: blockCount, field: "cross_attention_dim")
        let transformerDepth = try config.transformerLayersPerBlock.expanded(
            to: blockCount, field: "transformer_layers_per_block")
        guard Set(crossDims).count == 1, let contextDim = crossDims.first else {
            throw ModelLoadError.unsupportedConfig(field: "cross_attention_dim", value: "\(crossDims)")
        }
        guard let groups = config.normNumGroups else {
            throw ModelLoadError.unsupportedConfig(field: "norm_num_groups", value: "null")
        }
        try requirePositive(channels, "block_out_channels")
        try requirePositive(heads, config.numAttentionHeads == nil ? "attention_head_dim" : "num_attention_heads")
        try requirePositive(layers, "layers_per_block")
        try requirePositive(transformerDepth, "transformer_layers_per_block", allowZero: true)
        try requirePositive([contextDim], "cross_attention_dim")
        try requirePositive([groups], "norm_num_groups")
        try requirePositive([config.inChannels], "in_channels")
        try requirePositive([config.outChannels], "out_channels")
        try requirePositive([config.convInKernel], "conv_in_kernel")
        try requirePositive([config.convOutKernel], "conv_out_kernel")
        try requirePositive([config.timeEmbeddingDim ?? 1], "time_embedding_dim")
        let eps = config.normEps
        let timeInput = channels[0]
        let timeDim = config.timeEmbeddingDim ?? channels[0] * 4
        let linearProjection = config.useLinearProjection

        convIn = try Conv2D(root["conv_in"], input: config.inChannels, output: channels[0], kernel: config.convInKernel)
        timeLinear1 = try Linear(root["time_embedding"]["linear_1"], input: timeInput, output: timeDim)
        timeLinear2 = try Linear(root["time_embedding"]["linear_2"], input: timeDim, output: timeDim)
        textTimeEmbedding = config.additionEmbedType == "text_time"
            ? try TextTimeEmbedding(root["add_embedding"], config: config, timeEmbeddingDim: timeDim) : nil

        func transformer(_ scope: WeightScope, _ channels: Int, _ heads: Int, _ depth: Int) throws -> Transformer2D {
            try Transformer2D(scope, channels: channels, heads: heads, contextDim: contextDim, layers: depth,
                              groups: groups, linearProjection: linearProjection)
        }

        var down: [UNetDownBlock] = []
        var output = channels[0]
        for (i, type) in config.downBlockTypes.enumerated() {
            let input = output
            output = channels[i]
            let scope = root["down_blocks"][i]
            let hasAttention = type == "CrossAttnDownBlock2D"
            var resnets: [ResnetBlock2D] = []
            var attentions: [Transformer2D] = []
            for j in 0..<layers[i] {
                resnets.append(try ResnetBlock2D(scope["resnets"][j], input: j == 0 ? input : output, output: output,
                                                 timeEmbeddingChannels: timeDim, groups: groups, eps: eps))
                if hasAttention {
                    attentions.append(try transformer(scope["attentions"][j], output, heads[i], transformerDepth[i]))
                }
            }
            let downsampler = i == blockCount - 1 ? nil
                : try Downsample2D(scope["downsamplers"][0], channels: output, padding: config.downsamplePadding)
            down.append(UNetDownBlock(resnets: resnets, attentions: attentions, downsampler: downsampler))
        }
        downBlocks = down

        if config.midBlockType != nil {
            let scope = root["mid_block"]
            let c = channels[blockCount - 1]
            let scale = config.midBlockScaleFactor
            let depth = transformerDepth[blockCount - 1]
            midBlock = UNetMidBlock(
                first: try ResnetBlock2D(scope["resnets"][0], input: c, output: c, timeEmbeddingChannels: timeDim,
                                         groups: groups, eps: eps, outputScale: scale),
                attentions: [try transformer(scope["attentions"][0], c, heads[blockCount - 1], depth)],
                resnets: [try ResnetBlock2D(scope["resnets"][1], input: c, output: c, timeEmbeddingChannels: timeDim,
                                            groups: groups, eps: eps, outputScale: scale)])
        } else {
            midBlock = nil
        }

        var up: [UNetUpBlock] = []
        let reversedChannels = Array(channels.reversed())
        let reversedHeads = Array(heads.reversed())
        let reversedLayers = Array(layers.reversed())
        let reversedDepth = Array(transformerDepth.reversed())
        output = reversedChannels[0]
        for (i, type) in config.upBlockTypes.enumerated() {
            let previous = output
            output = reversedChannels[i]
            let input = reversedChannels[min(i + 1, blockCount - 1)]
            let scope = root["up_blocks"][i]
            let hasAttention = type == "CrossAttnUpBlock2D"
            let count = reversedLayers[i] + 1
            var resnets: [ResnetBlock2D] = []
            var attentions: [Transformer2D] = []
            for j in 0..<count {
                let skipChannels = j == count - 1 ? input : output
                let resnetInput = j == 0 ? previous : output
                resnets.append(try ResnetBlock2D(scope["resnets"][j], input: resnetInput + skipChannels,
                                                 output: output, timeEmbeddingChannels: timeDim,
                                                 groups: groups, eps: eps))
                if hasAttention {
                    attentions.append(try transformer(scope["attentions"][j], output, reversedHeads[i], reversedDepth[i]))
                }
            }
            let upsampler = i == blockCount - 1 ? nil : try Upsample2D(scope["upsamplers"][0], channels: output)
            up.append(UNetUpBlock(resnets: resnets, attentions: attentions, upsampler: upsampler))
        }
        upBlocks = up

        normOut = try GroupNorm(root["conv_norm_out"], groups: groups, channels: channels[0], eps: eps)
        convOut = try Conv2D(root["conv_out"], input: channels[0], output: config.outChannels,
                             kernel: config.convOutKernel)
        try reader.finish()
        self.config = config
        self.contextDim = contextDim
        parameterCount = reader.loadedElements
    }

    /// Noise (or v) prediction [N, out, H, W] for latents [N, in, H, W] at one timestep for the whole batch.
    public func forward(latents: Tensor, timestep: Float, context: Tensor) throws -> Tensor {
        try forward(latents: latents, timesteps: [timestep], conditioning: UNetConditioning(context: context))
    }

    /// Prediction with one timestep per batch element (or one for all); context [N, L, cross_attention_dim].
    public func forward(latents: Tensor, timesteps: [Float], context: Tensor) throws -> Tensor {
        try forward(latents: latents, timesteps: timesteps, conditioning: UNetConditioning(context: context))
    }

    public func forward(latents: Tensor, timestep: Float, conditioning: UNetConditioning) throws -> Tensor {
        try forward(latents: latents, timesteps: [timestep], conditioning: conditioning)
    }

    /// Skip connections a pass produces: conv_in's output, every down-block resnet (with its transformer)
    /// and every downsampler. ControlNet residuals come one per skip.
    public var skipConnectionCount: Int {
        1 + downBlocks.reduce(0) { $0 + $1.resnets.count + ($1.downsampler == nil ? 0 : 1) }
    }

    /// The shapes a ControlNet's residuals must have for latents [batch, in, height, width]: one per skip
    /// connection (in `ControlResiduals.down` order) and the mid block's output.
    public func controlResidualShapes(batch: Int, height: Int, width: Int) -> (down: [[Int]], mid: [Int]) {
        var (h, w) = (height, width)
        var shapes: [[Int]] = [[batch, config.blockOutChannels[0], h, w]]
        for (i, block) in downBlocks.enumerated() {
            let channels = config.blockOutChannels[i]
            shapes += Array(repeating: [batch, channels, h, w], count: block.resnets.count)
            if block.downsampler != nil {
                // 3×3, stride 2; padding 0 means diffusers' one-sided (0, 1, 0, 1) pad.
                let pad = config.downsamplePadding == 0 ? 1 : 2 * config.downsamplePadding
                (h, w) = ((h + pad - 3) / 2 + 1, (w + pad - 3) / 2 + 1)
                shapes.append([batch, channels, h, w])
            }
        }
        return (shapes, [batch, config.blockOutChannels[config.blockOutChannels.count - 1], h, w])
    }

    /// The prediction for `latents` [N, in, H, W] with one timestep per batch element (or one for all),
    /// conditioned on `conditioning` (batch-aligned with the latents).
    public func forward(latents: Tensor, timesteps: [Float], conditioning: UNetConditioning) throws -> Tensor {
        let shape = latents.shape
        let context = conditioning.context
        guard shape.count == 4, shape[1] == config.inChannels, shape[0] > 0, shape[2] > 0, shape[3] > 0 else {
            throw UNetError.latentShape(found: shape, expectedChannels: config.inChannels)
        }
        let batch = shape[0]
        guard timesteps.count == 1 || timesteps.count == batch else {
            throw UNetError.timestepCount(found: timesteps.count, batch: batch)
        }
        guard context.shape.count == 3, context.shape[0] == batch, context.shape[1] > 0,
              context.shape[2] == contextDim else {
            throw UNetError.contextShape(found: context.shape, batch: batch, expectedDim: contextDim)
        }
        let addedEmbedding: Tensor?
        switch (textTimeEmbedding, conditioning.added) {
        case (nil, nil): addedEmbedding = nil
        case (nil, .some): throw UNetError.addedConditioningUnsupported
        case (.some, nil): throw UNetError.addedConditioningMissing
        case let (.some(embedding), .some(added)): addedEmbedding = try embedding(added, batch: batch)
        }
        if let control = conditioning.control, control.down.count != skipConnectionCount {
            throw UNetError.controlResidualCount(found: control.down.count, skipConnections: skipConnectionCount)
        }
        let perSample = timesteps.count == batch ? timesteps : Array(repeating: timesteps[0], count: batch)
        let projected = timestepEmbedding(timesteps: perSample, dim: config.blockOutChannels[0],
                                          flipSinToCos: config.flipSinToCos,
                                          downscaleFreqShift: config.freqShift)
        var timeEmbedding = timeLinear2(silu(timeLinear1(projected)))
        if let addedEmbedding { timeEmbedding += addedEmbedding }
        let inputs = UNetStepInputs(activatedTimeEmbedding: silu(timeEmbedding), context: context,
                                    hypernetworks: conditioning.hypernetworks)

        // diffusers forwards explicit upsample sizes when H or W is not a multiple of 2^upsamplers.
        let factor = 1 << max(upBlocks.count - 1, 0)
        let matchSkipSize = shape[2] % factor != 0 || shape[3] % factor != 0

        var h = convIn(config.centerInputSample ? latents * 2 + -1 : latents)
        var skips: [Tensor] = [h]
        for block in downBlocks {
            h = block(h, inputs, skips: &skips)
        }
        if let control = conditioning.control {
            // diffusers adds the residuals to the stored skips only; h itself enters the mid block unchanged.
            for (index, residual) in control.down.enumerated() {
                guard residual.shape == skips[index].shape else {
                    throw UNetError.controlResidualShape(index: index, found: residual.shape, expected: skips[index].shape)
                }
                skips[index] += residual
            }
        }
        if let midBlock { h = midBlock(h, inputs) }
        if let mid = conditioning.control?.mid {
            guard mid.shape == h.shape else {
                throw UNetError.controlResidualShape(index: nil, found: mid.shape, expected: h.shape)
            }
            h += mid
        }
        for block in upBlocks {
            h = block(h, inputs, skips: &skips, matchSkipSize: matchSkipSize)
        }
        return convOut(normOut.withSiLU(h))
    }

    /// The context widths of its attentions: every transformer's token width (self-attention) and the
    /// cross-attention width — where an A1111 hypernetwork module can apply.
    public var attentionContextWidths: Set<Int> {
        let transformers = downBlocks.flatMap(\.attentions) + (midBlock?.attentions ?? []) + upBlocks.flatMap(\.attentions)
        var widths = Set(transformers.flatMap { $0.blocks.map(\.dim) })
        if !transformers.isEmpty { widths.insert(contextDim) }
        return widths
    }

    /// Rejects configuration features this UNet does not implement, naming the field.
    static func checkSupported(_ c: UNetConfig) throws {
        func reject(_ field: String, _ value: Any?) throws {
            throw ModelLoadError.unsupportedConfig(field: field, value: value.map { "\($0)" } ?? "null")
        }
        for type in c.downBlockTypes where type != "CrossAttnDownBlock2D" && type != "DownBlock2D" {
            try reject("down_block_types", type)
        }
        for type in c.upBlockTypes where type != "CrossAttnUpBlock2D" && type != "UpBlock2D" {
            try reject("up_block_types", type)
        }
        if let mid = c.midBlockType, mid != "UNetMidBlock2DCrossAttn" { try reject("mid_block_type", mid) }
        if c.actFn != "silu" { try reject("act_fn", c.actFn) }
        if c.onlyCrossAttention.anyTrue { try reject("only_cross_attention", c.onlyCrossAttention) }
        if c.midBlockOnlyCrossAttention == true { try reject("mid_block_only_cross_attention", true) }
        if c.dualCrossAttention { try reject("dual_cross_attention", true) }
        if let v = c.classEmbedType { try reject("class_embed_type", v) }
        if let v = c.numClassEmbeds { try reject("num_class_embeds", v) }
        if let v = c.additionEmbedType {
            // text_time is SDXL's, and only whole with both of its widths (diffusers cannot build it without).
            let complete = c.additionTimeEmbedDim != nil && c.projectionClassEmbeddingsInputDim != nil
            if v != "text_time" || !complete { try reject("addition_embed_type", v) }
        }
        if let v = c.reverseTransformerLayersPerBlock { try reject("reverse_transformer_layers_per_block", v) }
        if c.resnetTimeScaleShift != "default" { try reject("resnet_time_scale_shift", c.resnetTimeScaleShift) }
        if c.resnetSkipTimeAct { try reject("resnet_skip_time_act", true) }
        if c.resnetOutScaleFactor != 1 { try reject("resnet_out_scale_factor", c.resnetOutScaleFactor) }
        if c.timeEmbeddingType != "positional" { try reject("time_embedding_type", c.timeEmbeddingType) }
        if let v = c.timeEmbeddingActFn { try reject("time_embedding_act_fn", v) }
        if let v = c.timestepPostAct { try reject("timestep_post_act", v) }
        if let v = c.timeCondProjDim { try reject("time_cond_proj_dim", v) }
        if let v = c.encoderHidDimType { try reject("encoder_hid_dim_type", v) }
        if c.attentionType != "default" { try reject("attention_type", c.attentionType) }
        if c.classEmbeddingsConcat { try reject("class_embeddings_concat", true) }
        if let v = c.crossAttentionNorm { try reject("cross_attention_norm", v) }
        if c.convInKernel % 2 == 0 { try reject("conv_in_kernel", c.convInKernel) }
        if c.convOutKernel % 2 == 0 { try reject("conv_out_kernel", c.convOutKernel) }
    }
}
