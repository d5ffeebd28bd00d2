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
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value).
    public var residentBytes: Int { loadedBytes + bf16Packs.bytes }
    /// Bytes of the weights as loaded; the bf16 copies the bf16 path made are in `bf16Packs`.
    let loadedBytes: Int
    let bf16Packs: BF16PackLedger
    /// Bytes of the bf16 weight copies made so far (part of `residentBytes`).
    public var bf16PackBytes: Int { bf16Packs.bytes }
    /// The bf16 copies a bf16 call will still make, and all of them (made or not).
    public var bf16PendingBytes: Int { bf16Packs.pendingBytes }
    public var bf16PlannedBytes: Int { bf16Packs.plannedBytes }
    /// conv_in, the time embedding, the down blocks and the mid block (shared with ControlNets).
    let encoder: UNetEncoder
    let upBlocks: [UNetUpBlock]
    let normOut: GroupNorm
    let convOut: Conv2D

    /// Whether a batch whose two halves have the same latents and time embedding runs its start once
    /// (`IdenticalHalves`); off only to measure what that saves (`diffusiond-bench --no-shared-halves`).
    public static var sharesIdenticalGuidanceHalves: Bool {
        get { IdenticalHalves.enabled }
        set { IdenticalHalves.enabled = newValue }
    }

    /// SDXL's `add_embedding` (with `add_time_proj`); nil for SD 1.x/2.x, which refuse added conditioning.
    public var textTimeEmbedding: TextTimeEmbedding? { encoder.textTimeEmbedding }

    /// `sharingBF16With`: the UNet this one is rebuilt from (a LoRA set's), whose bf16 weight copies it uses for
    /// the weights both hold.
    public init(config: UNetConfig, weights: TensorSource, sharingBF16With base: UNet? = nil) throws {
        try Self.checkSupported(config)
        let reader = WeightReader(weights, packBF16AtLoad: PrecisionSetting.forRequest(nil) == .bf16,
                                  sharingBF16With: base?.bf16Packs)
        let root = WeightScope(reader)
        let blockCount = config.downBlockTypes.count
        guard config.upBlockTypes.count == blockCount else {
            throw ModelLoadError.invalidConfig(
                "down_block_types (\(blockCount)), up_block_types (\(config.upBlockTypes.count)) and "
                + "block_out_channels (\(config.blockOutChannels.count)) must have the same length, 1 to 16")
        }
        try requirePositive([config.outChannels], "out_channels")
        try requirePositive([config.convOutKernel], "conv_out_kernel")
        encoder = try UNetEncoder(config: config, root: root)
        let levels = encoder.levels
        let channels = levels.channels
        let timeDim = levels.timeDim
        let groups = levels.groups, eps = levels.eps
        var output: Int

        var up: [UNetUpBlock] = []
        let reversedChannels = Array(channels.reversed())
        output = reversedChannels[0]
        for (i, type) in config.upBlockTypes.enumerated() {
            let level = blockCount - 1 - i
            let previous = output
            output = reversedChannels[i]
            let input = reversedChannels[min(i + 1, blockCount - 1)]
            let scope = root["up_blocks"][i]
            let hasAttention = type == "CrossAttnUpBlock2D"
            let count = levels.layers[level] + 1
            var resnets: [ResnetBlock2D] = []
            var attentions: [Transformer2D] = []
            for j in 0..<count {
                let skipChannels = j == count - 1 ? input : output
                let resnetInput = j == 0 ? previous : output
                resnets.append(try ResnetBlock2D(scope["resnets"][j], input: resnetInput + skipChannels,
                                                 output: output, timeEmbeddingChannels: timeDim,
                                                 groups: groups, eps: eps))
                if hasAttention {
                    attentions.append(try levels.transformer(scope["attentions"][j], level: level, config: config))
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
        parameterCount = reader.loadedElements
        loadedBytes = reader.loadedBytes
        bf16Packs = reader.bf16Packs
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
    public var skipConnectionCount: Int { encoder.skipConnectionCount }

    /// Width of the cross-attention context (SD1 768, SD2 1024, SDXL 2048).
    public var contextDim: Int { encoder.levels.contextDim }

    /// The shapes a ControlNet's residuals must have for latents [batch, in, height, width]: one per skip
    /// connection (in `ControlResiduals.down` order) and the mid block's output.
    public func controlResidualShapes(batch: Int, height: Int, width: Int) -> (down: [[Int]], mid: [Int]) {
        var (h, w) = (height, width)
        var shapes: [[Int]] = [[batch, config.blockOutChannels[0], h, w]]
        for (i, block) in encoder.downBlocks.enumerated() {
            let channels = config.blockOutChannels[i]
            shapes += Array(repeating: [batch, channels, h, w], count: block.resnets.count)
            if let downsampler = block.downsampler {
                (h, w) = (downsampler.outputSide(h), downsampler.outputSide(w))
                shapes.append([batch, channels, h, w])
            }
        }
        return (shapes, [batch, config.blockOutChannels[config.blockOutChannels.count - 1], h, w])
    }

    /// The shape each T2I-Adapter feature must have, down block by down block, for latents [batch, in, height,
    /// width] (see `UNetConditioning.adapterFeatures`), and the mid block output's (where a further one may go).
    public func adapterFeatureShapes(batch: Int, height: Int, width: Int) -> (down: [[Int]], mid: [Int]) {
        var shape = [batch, config.blockOutChannels[0], height, width]
        var shapes: [[Int]] = []
        for (i, block) in encoder.downBlocks.enumerated() {
            shapes.append(block.adapterFeatureShape(input: shape, channels: config.blockOutChannels[i]))
            if let downsampler = block.downsampler {
                shape = downsampler.outputShape([batch, config.blockOutChannels[i], shape[2], shape[3]])
            }
        }
        return (shapes, [batch, config.blockOutChannels[config.blockOutChannels.count - 1], shape[2], shape[3]])
    }

    /// The prediction for `latents` [N, in, H, W] with one timestep per batch element (or one for all),
    /// conditioned on `conditioning` (batch-aligned with the latents).
    public func forward(latents: Tensor, timesteps: [Float], conditioning: UNetConditioning) throws -> Tensor {
        let shape = latents.shape
        var inputs = try encoder.stepInputs(latents: latents, timesteps: timesteps, context: conditioning.context,
                                            added: conditioning.added)
        inputs.hypernetworks = conditioning.hypernetworks
        if let control = conditioning.control, control.down.count != skipConnectionCount {
            throw UNetError.controlResidualCount(found: control.down.count, skipConnections: skipConnectionCount)
        }
        // diffusers forwards explicit upsample sizes when H or W is not a multiple of 2^upsamplers.
        let factor = 1 << max(upBlocks.count - 1, 0)
        let matchSkipSize = shape[2] % factor != 0 || shape[3] % factor != 0

        let encoded = try encoder(latents, inputs, adapterFeatures: conditioning.adapterFeatures)
        var skips = encoded.skips
        var h = encoded.mid
        if let control = conditioning.control {
            // diffusers adds the residuals to the stored skips only; the mid block ran on the unchanged ones.
            for (index, residual) in control.down.enumerated() {
                guard residual.shape == skips[index].shape else {
                    throw UNetError.controlResidualShape(index: index, found: residual.shape, expected: skips[index].shape)
                }
                skips[index] += residual
            }
            guard control.mid.shape == h.shape else {
                throw UNetError.controlResidualShape(index: nil, found: control.mid.shape, expected: h.shape)
            }
            h += control.mid
        }
        for block in upBlocks {
            h = block(h, inputs, skips: &skips, matchSkipSize: matchSkipSize)
        }
        return convOut(normOut.withSiLU(h))
    }

    /// The context widths of its attentions: every transformer's token width (self-attention) and the
    /// cross-attention width — where an A1111 hypernetwork module can apply.
    public var attentionContextWidths: Set<Int> {
        let transformers = encoder.downBlocks.flatMap(\.attentions) + (encoder.midBlock?.attentions ?? []) + upBlocks.flatMap(\.attentions)
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
