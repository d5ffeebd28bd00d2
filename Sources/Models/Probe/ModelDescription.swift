import Weights

/// What a model on disk is, read from headers and configs without loading it (`ModelProbe.describe`):
/// what `models.list` shows next to each name.
public struct ModelDescription: Equatable, Sendable {
    public enum Kind: String, Equatable, Sendable {
        case stableDiffusion = "stable-diffusion"
        case upscaler
        case t2iAdapter = "t2i-adapter"
    }

    /// How the model is stored.
    public enum Layout: String, Equatable, Sendable {
        /// A diffusers pipeline folder (`model_index.json`, component folders).
        case diffusers
        case safetensors
        /// A torch.save zip read by the restricted unpickler, whatever its extension (.ckpt, .pt, .pth).
        case ckpt
        /// An ncnn `.param` with its `.bin`.
        case ncnn
    }

    /// What kind of model it is, with what that kind needs described.
    public enum Details: Equatable, Sendable {
        case stableDiffusion(StableDiffusionDescription)
        case upscaler(UpscalerDescription)
        case t2iAdapter(T2IAdapterConfig)
    }

    public let path: String
    public let layout: Layout
    /// The element types the weights are stored in, each once, sorted by name (e.g. [.f16, .f32]).
    public let dtypes: [DType]
    public let details: Details

    public init(path: String, layout: Layout, dtypes: some Sequence<DType>, details: Details) {
        self.path = path
        self.layout = layout
        self.dtypes = Set(dtypes).sorted { $0.rawValue < $1.rawValue }
        self.details = details
    }

    public var kind: Kind {
        switch details {
        case .stableDiffusion: return .stableDiffusion
        case .upscaler: return .upscaler
        case .t2iAdapter: return .t2iAdapter
        }
    }

    public var stableDiffusion: StableDiffusionDescription? {
        if case let .stableDiffusion(d) = details { return d }
        return nil
    }

    public var upscaler: UpscalerDescription? {
        if case let .upscaler(d) = details { return d }
        return nil
    }

    public var t2iAdapter: T2IAdapterConfig? {
        if case let .t2iAdapter(d) = details { return d }
        return nil
    }
}

/// A Stable Diffusion model as loading would see it (same family detection and prediction rules).
public struct StableDiffusionDescription: Equatable, Sendable {
    public let family: ModelFamilyID
    /// What the scheduler config, a `<name>.yaml` sidecar or the family's rule says (no user override).
    public let predictionType: PredictionType
    public let unetInChannels: Int
    /// A 9-channel inpainting UNet (latents + mask + masked-image latents).
    public var isInpainting: Bool { unetInChannels == 9 }

    public init(family: ModelFamilyID, predictionType: PredictionType, unetInChannels: Int) {
        self.family = family
        self.predictionType = predictionType
        self.unetInChannels = unetInChannels
    }
}

/// A Real-ESRGAN upscaler as `UpscalerModel.load` would build it.
public struct UpscalerDescription: Equatable, Sendable {
    /// "RRDBNet" or "SRVGGNetCompact".
    public let architecture: String
    /// Output pixels per input pixel of the network itself.
    public let networkScale: Int
    /// The scale the published file promises (`UpscalerModel.declaredScale`: the ncnn realesr-animevideov3
    /// ×2/×3 exports are the ×4 network followed by a downscale).
    public let scale: Double

    public init(architecture: String, networkScale: Int, scale: Double) {
        self.architecture = architecture
        self.networkScale = networkScale
        self.scale = scale
    }
}
