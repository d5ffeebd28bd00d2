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
}
