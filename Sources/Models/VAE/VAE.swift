import Tensor
import Weights

/// Errors of VAE encode/decode: inputs whose shapes do not fit the loaded network.
public enum VAEError: Error, Equatable, CustomStringConvertible {
    case imageShape(found: [Int], expectedChannels: Int)
    case latentShape(found: [Int], expectedChannels: Int)
    /// The encoder's stride-2 convolutions need at least 2 pixels at every level.
    case imageTooSmall(height: Int, width: Int, minimum: Int)

    public var description: String {
        switch self {
        case let .imageShape(found, c): return "image tensor has shape \(found), expected [N, \(c), H, W]"
        case let .latentShape(found, c): return "latent tensor has shape \(found), expected [N, \(c), h, w]"
        case let .imageTooSmall(h, w, minimum):
            return "image of \(w)×\(h) is too small to encode (each side must be at least \(minimum))"
        }
    }
}

/// diffusers' `AutoencoderKL` (no tiling). The scaling factor in `config.scalingFactor` is the pipeline's
/// business: `encode` returns raw moments and `decode` takes unscaled latents.
public struct VAE: Sendable {
    public let config: VAEConfig
    /// Float32 parameters the network holds (for memory budgets: × 4 bytes).
    public let parameterCount: Int
    /// Bytes its weights occupy resident (16-bit weight matrices at 2 bytes per value).
    public var residentBytes: Int { loadedBytes + bf16Packs.bytes }
    /// Bytes of the weights as loaded; the bf16 copies the bf16 path made are in `bf16Packs`.
    let loadedBytes: Int
    let bf16Packs: BF16PackLedger
    /// Bytes of the bf16 weight copies made so far (part of `residentBytes`).
    public var bf16PackBytes: Int { bf16Packs.bytes }
    /// The bf16 copies a bf16 job will still make: none for a VAE that computes in fp32 (`force_upcast`).
    public var bf16PendingBytes: Int { config.forceUpcast ? 0 : bf16Packs.pendingBytes }
    let encoder: VAEEncoder
    let decoder: VAEDecoder
    let quantConv: Conv2D?
    let postQuantConv: Conv2D?

    public init(config: VAEConfig, weights: TensorSource) throws {
        try Self.checkSupported(config)
        let reader = WeightReader(weights, packBF16AtLoad: !config.forceUpcast && PrecisionSetting.forRequest(nil) == .bf16)
        let root = WeightScope(reader)
        let latent = config.latentChannels
        encoder = try VAEEncoder(root["encoder"], config: config)
        decoder = try VAEDecoder(root["decoder"], config: config)
        quantConv = config.useQuantConv
            ? try Conv2D(root["quant_conv"], input: 2 * latent, output: 2 * latent, kernel: 1) : nil
        postQuantConv = config.usePostQuantConv
            ? try Conv2D(root["post_quant_conv"], input: latent, output: latent, kernel: 1) : nil
        try reader.finish()
        self.config = config
        parameterCount = reader.loadedElements
        loadedBytes = reader.loadedBytes
        bf16Packs = reader.bf16Packs
    }

    /// The posterior `DiagonalGaussianDistribution` of an image [N, 3, H, W] in [-1, 1]:
    /// mean and log-variance [N, latent, H/8, W/8], the log-variance clamped to [-30, 20] as diffusers does.
    public func encode(_ image: Tensor) throws -> (mean: Tensor, logvar: Tensor) {
        let s = image.shape
        guard s.count == 4, s[1] == config.inChannels, s[0] > 0, s[2] > 0, s[3] > 0 else {
            throw VAEError.imageShape(found: s, expectedChannels: config.inChannels)
        }
        // Each encoder downsample pads (0, 1, 0, 1) and takes a stride-2 3×3 conv: floor(n / 2), defined for n ≥ 2.
        let minimum = 1 << (config.blockOutChannels.count - 1)
        guard s[2] >= minimum, s[3] >= minimum else {
            throw VAEError.imageTooSmall(height: s[2], width: s[3], minimum: minimum)
        }
        let moments = ComputePrecision.$current.withValue(computePrecision) {
            quantConv.map { $0(encoder(image)) } ?? encoder(image)
        }
        let parts = split(moments, axis: 1, sizes: [config.latentChannels, config.latentChannels])
        var logvar = parts[1]
        logvar.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] = min(max(values[i], -30), 20) }
        }
        return (parts[0], logvar)
    }

    /// Image [N, 3, 8h, 8w] (nominally in [-1, 1], not clamped) from unscaled latents [N, latent, h, w].
    public func decode(_ latents: Tensor) throws -> Tensor {
        let s = latents.shape
        guard s.count == 4, s[1] == config.latentChannels, s[0] > 0, s[2] > 0, s[3] > 0 else {
            throw VAEError.latentShape(found: s, expectedChannels: config.latentChannels)
        }
        return ComputePrecision.$current.withValue(computePrecision) { decoder(postQuantConv.map { $0(latents) } ?? latents) }
    }

    /// The job's precision, except fp32 where the config's `force_upcast` says the VAE overflows in half
    /// precision (SD 1.x/2.x and SDXL's own VAE; diffusers upcasts it the same way).
    var computePrecision: ComputePrecision { config.forceUpcast ? .fp32 : ComputePrecision.current }

    static func checkSupported(_ c: VAEConfig) throws {
        for type in c.downBlockTypes where type != "DownEncoderBlock2D" {
            throw ModelLoadError.unsupportedConfig(field: "down_block_types", value: type)
        }
        for type in c.upBlockTypes where type != "UpDecoderBlock2D" {
            throw ModelLoadError.unsupportedConfig(field: "up_block_types", value: type)
        }
        guard c.downBlockTypes.count == c.blockOutChannels.count, c.upBlockTypes.count == c.blockOutChannels.count,
              !c.blockOutChannels.isEmpty else {
            throw ModelLoadError.invalidConfig("VAE block type lists and block_out_channels differ in length")
        }
        if c.actFn != "silu" { throw ModelLoadError.unsupportedConfig(field: "act_fn", value: c.actFn) }
        try requirePositive(c.blockOutChannels, "block_out_channels")
        try requirePositive([c.layersPerBlock], "layers_per_block")
        try requirePositive([c.latentChannels], "latent_channels")
        try requirePositive([c.normNumGroups], "norm_num_groups")
        try requirePositive([c.inChannels], "in_channels")
        try requirePositive([c.outChannels], "out_channels")
        guard c.blockOutChannels.count <= 16 else {
            throw ModelLoadError.invalidConfig("\(c.blockOutChannels.count) VAE levels")
        }
    }
}
