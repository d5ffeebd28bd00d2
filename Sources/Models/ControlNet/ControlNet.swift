import Foundation
import Tensor
import Weights

/// diffusers' `ControlNetModel`: the UNet's encoder half (`UNetEncoder`, same blocks and names) whose conv_in
/// output gets the embedded control image (`controlnet_cond_embedding`), and a 1×1 convolution per skip
/// connection (`controlnet_down_blocks`) and after the mid block (`controlnet_mid_block`) that turn its
/// activations into the residuals a UNet adds (`ControlResiduals`). SD 1.x/2.x and SDXL (`text_time`) layouts.
public struct ControlNet: Sendable {
    public let config: ControlNetConfig
    /// Float32 parameters the network holds (for memory budgets: × 4 bytes).
    public let parameterCount: Int
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value), the bf16 copies the bf16
    /// path made included.
    public var residentBytes: Int { loadedBytes + bf16Packs.bytes }
    let loadedBytes: Int
    let bf16Packs: BF16PackLedger
    /// Bytes of the bf16 weight copies made so far (part of `residentBytes`) and those a bf16 job will still make.
    public var bf16PackBytes: Int { bf16Packs.bytes }
    public var bf16PendingBytes: Int { bf16Packs.pendingBytes }
    let encoder: UNetEncoder
    let hint: ControlNetConditioningEmbedding
    let downProjections: [Conv2D]
    let midProjection: Conv2D

    public init(config: ControlNetConfig, weights: TensorSource) throws {
        try UNet.checkSupported(config.unet)
        guard config.unet.midBlockType != nil else {
            throw ModelLoadError.unsupportedConfig(field: "mid_block_type", value: "null")
        }
        guard ["rgb", "bgr"].contains(config.conditioningChannelOrder) else {
            throw ModelLoadError.unsupportedConfig(field: "controlnet_conditioning_channel_order",
                                                   value: config.conditioningChannelOrder)
        }
        // Narrowed at load when the daemon computes in bf16, as the UNet's, so they are in the bytes measured then.
        let reader = WeightReader(weights, packBF16AtLoad: PrecisionSetting.forRequest(nil) == .bf16)
        let root = WeightScope(reader)
        encoder = try UNetEncoder(config: config.unet, root: root)
        let channels = encoder.levels.channels
        hint = try ControlNetConditioningEmbedding(
            root["controlnet_cond_embedding"], conditioningChannels: config.conditioningChannels,
            channels: config.conditioningEmbeddingOutChannels, outputChannels: channels[0])
        // One projection per skip connection, in the order the encoder pushes them.
        var widths = [channels[0]]
        for (level, block) in encoder.downBlocks.enumerated() {
            widths += Array(repeating: channels[level], count: block.resnets.count + (block.downsampler == nil ? 0 : 1))
        }
        downProjections = try widths.enumerated().map { index, width in
            try Conv2D(root["controlnet_down_blocks"][index], input: width, output: width, kernel: 1)
        }
        let last = channels[channels.count - 1]
        midProjection = try Conv2D(root["controlnet_mid_block"], input: last, output: last, kernel: 1)
        try reader.finish()
        self.config = config
        parameterCount = reader.loadedElements
        loadedBytes = reader.loadedBytes
        bf16Packs = reader.bf16Packs
    }

    /// Channels of the control image the network takes (3 for RGB hints).
    public var hintChannels: Int { config.conditioningChannels }
    /// Pixels per latent cell the hint block assumes (8 for every SD ControlNet).
    public var hintDownscale: Int { hint.downscale }
    /// Width of the cross-attention context it expects (SD1 768, SD2 1024, SDXL 2048).
    public var contextDim: Int { encoder.levels.contextDim }
    /// SDXL's added embedding (pooled text embeds and time ids), nil for SD 1.x/2.x ControlNets.
    public var textTimeEmbedding: TextTimeEmbedding? { encoder.textTimeEmbedding }
    /// Skip connections it makes residuals for: must equal the UNet's.
    public var skipConnectionCount: Int { encoder.skipConnectionCount }

    /// The residuals for `latents` [N, in, H, W] at `timestep`, conditioned on `conditioning` (its context and
    /// SDXL's added conditioning; its `control` is ignored) and on `image` [N, hint channels, H·f, W·f] in [0, 1].
    /// Every residual is multiplied by `scale` (diffusers' `conditioning_scale`); `guessMode` additionally scales
    /// the down residuals from 0.1 to 1 (logspace) and the mid one by 1, as diffusers does unless the model
    /// pools globally.
    public func callAsFunction(latents: Tensor, timestep: Float, conditioning: UNetConditioning, image: Tensor,
                               scale: Float, guessMode: Bool) throws -> ControlResiduals {
        let shape = latents.shape
        let f = hint.downscale
        let expected = [shape[0], hintChannels, shape[2] * f, shape[3] * f]
        guard image.shape == expected else { throw ControlNetError.hintShape(found: image.shape, expected: expected) }
        return try self(latents: latents, timestep: timestep, conditioning: conditioning,
                        embeddedHint: try embedHint(image), scale: scale, guessMode: guessMode)
    }

    /// The control image [N, hint channels, H·f, W·f] in [0, 1] through the hint block: [N, conv_in width, H, W].
    /// It depends on the image only, so a sampling loop embeds each control image once, not at every step.
    public func embedHint(_ image: Tensor) throws -> Tensor {
        guard image.rank == 4, image.shape[1] == hintChannels else {
            let s = image.shape
            throw ControlNetError.hintShape(found: s, expected: [s.first ?? 1, hintChannels] + Array(s.dropFirst(2)))
        }
        return hint(config.conditioningChannelOrder == "bgr" ? Self.reversedChannels(image) : image)
    }

    /// The residuals as above, from a hint `embedHint` made (rows as the latents').
    public func callAsFunction(latents: Tensor, timestep: Float, conditioning: UNetConditioning, embeddedHint: Tensor,
                               scale: Float, guessMode: Bool) throws -> ControlResiduals {
        let shape = latents.shape
        let expected = [shape[0], encoder.levels.channels[0], shape[2], shape[3]]
        guard embeddedHint.shape == expected else {
            throw ControlNetError.hintShape(found: embeddedHint.shape, expected: expected)
        }
        let inputs = try encoder.stepInputs(latents: latents, timesteps: [timestep], context: conditioning.context,
                                            added: conditioning.added)
        let encoded = try encoder(latents, inputs, afterConvIn: embeddedHint)
        var down = zip(downProjections, encoded.skips).map { projection, skip in projection(skip) }
        var mid = midProjection(encoded.mid)

        if guessMode && !config.globalPoolConditions {
            // torch.logspace(-1, 0, n + 1): 10^(-1 + k / n), k = 0...n; the last factor (1) is the mid block's.
            let n = down.count
            for k in down.indices {
                let factor = Float(pow(10, -1 + Double(k) / Double(n)))
                down[k] = down[k] * (factor * scale)
            }
            if scale != 1 { mid = mid * scale }
        } else if scale != 1 {
            // x · 1 is x exactly: a weight of 1 (the usual one) skips a pass over every residual.
            down = down.map { $0 * scale }
            mid = mid * scale
        }
        if config.globalPoolConditions {
            down = down.map(Self.spatialMean)
            mid = Self.spatialMean(mid)
        }
        return ControlResiduals(down: down, mid: mid)
    }

    /// [N, C, H, W] with its channels in reverse order (RGB ↔ BGR).
    static func reversedChannels(_ x: Tensor) -> Tensor {
        let parts = split(x, axis: 1, sizes: Array(repeating: 1, count: x.shape[1]))
        return concat(parts.reversed(), axis: 1)
    }

    /// torch.mean(x, dim=(2, 3), keepdim=True) for [N, C, H, W], broadcast back to [N, C, H, W] (the UNet adds
    /// the [N, C, 1, 1] mean to every position, as torch's broadcasting does).
    static func spatialMean(_ x: Tensor) -> Tensor {
        let n = x.shape[0], c = x.shape[1], plane = x.shape[2] * x.shape[3]
        let values = x.scalars
        var out = [Float](repeating: 0, count: values.count)
        for i in 0..<(n * c) {
            var sum = 0.0
            for j in 0..<plane { sum += Double(values[i * plane + j]) }
            let mean = Float(sum / Double(plane))
            for j in 0..<plane { out[i * plane + j] = mean }
        }
        return Tensor(shape: x.shape, values: out)
    }
}
