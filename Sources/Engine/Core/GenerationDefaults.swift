import Sampling

/// The generation parameters' defaults, defined once: `GenerationRequest` starts from them and the wire
/// operations (`generate`, `img2img`, `inpaint`, `outpaint`) decode missing members to them and quote them in
/// their schemas, so an engine caller and a client asking for "the default" get the same image.
public enum GenerationDefaults {
    public static let samplerName = "euler"
    public static let sampler = SamplerChoice(sampler: .euler)
    public static let steps = 20
    /// 7.0, what clients have always got on the wire.
    public static let cfgScale = 7.0
    public static let guidanceRescale = 0.0
    public static let clipSkip = 1
    public static let eta = 0.0
    public static let rng = RNGKind.cpu
    public static let batchSize = 1
    public static let width = 512
    public static let height = 512
    /// img2img's strength (diffusers' default); inpaint and outpaint repaint fully unless told otherwise.
    public static let img2imgStrength = 0.75
    public static let repaintStrength = 1.0
    /// SDXL micro-conditioning (diffusers' defaults); original and target size default to the output size.
    public static let cropsCoordsTopLeft = CropCoordinates.zero
    /// The refiner's `aesthetic_score` / `negative_aesthetic_score`.
    public static let aestheticScore = 6.0
    public static let negativeAestheticScore = 2.5
    /// SDXL's size when a request names none (SD 1.x/2.x keep `width` × `height`; see `LoadedModel.defaultSize`).
    public static let sdxlSide = 1024
}
