/// Hyper-parameters a single-file SD1/SD2 checkpoint does not record in its tensors (attention head counts,
/// group-norm group counts, the latent scaling factor). Each family supplies its own (`ModelFamily.conventions`,
/// the values of the original LDM configs v1-inference.yaml / v2-inference.yaml); a caller may override
/// them (`CheckpointOptions.conventions`) for checkpoints that follow other values, like the tiny test fixtures.
/// A family reads only the fields that apply to it (SD1 the fixed head count, SD2 the head width).
public struct SingleFileConventions: Equatable, Sendable {
    /// SD1 UNets use 8 heads in every attention block (`num_heads: 8`).
    public var sd1AttentionHeads: Int
    /// SD2 UNets use 64 channels per head (`num_head_channels: 64`), so heads = channels / 64.
    public var sd2AttentionHeadDim: Int
    /// CLIP ViT-L/14 (12 heads of 64) and OpenCLIP ViT-H/14 (16 heads of 64).
    public var textAttentionHeadDim: Int
    public var unetNormGroups: Int
    public var vaeNormGroups: Int
    public var vaeScalingFactor: Double
    /// SDXL UNets use 64 channels per head (diffusers' `attention_head_dim` [5, 10, 20] for 320/640/1280).
    public var sdxlAttentionHeadDim: Int
    /// SDXL's second text encoder (OpenCLIP ViT-bigG/14: 20 heads of 64); `textAttentionHeadDim` is its first.
    public var secondTextAttentionHeadDim: Int
    /// A head rule that replaces the family's own for every UNet attention block (a sidecar config's
    /// `num_heads` / `num_head_channels`); nil keeps the family's.
    public var unetHeads: AttentionHeadRule?
    /// Replaces `textAttentionHeadDim` / `secondTextAttentionHeadDim` for the first / second text encoder.
    public var textHeads: AttentionHeadRule?
    public var secondTextHeads: AttentionHeadRule?

    /// The UNet attention heads of a block `channels` wide: the override's, else `familyRule`'s.
    public func unetHeadCount(channels: Int, familyRule: (Int) -> Int) -> Int {
        unetHeads?.heads(channels: channels) ?? familyRule(channels)
    }

    /// The heads of the first (`second == false`) or second text encoder, `width` wide.
    public func textHeadCount(width: Int, second: Bool = false) -> Int {
        if let rule = second ? secondTextHeads : textHeads { return rule.heads(channels: width) }
        return width / max(second ? secondTextAttentionHeadDim : textAttentionHeadDim, 1)
    }

    public static let stableDiffusion = SingleFileConventions(
        sd1AttentionHeads: SD1Family.attentionHeads, sd2AttentionHeadDim: SD2Family.attentionHeadDim,
        textAttentionHeadDim: 64, unetNormGroups: 32, vaeNormGroups: 32, vaeScalingFactor: 0.18215)

    /// sd_xl_base.yaml / sd_xl_refiner.yaml: `num_head_channels: 64`, VAE `scale_factor: 0.13025`.
    public static let stableDiffusionXL: SingleFileConventions = {
        var xl = SingleFileConventions.stableDiffusion
        xl.vaeScalingFactor = 0.13025
        return xl
    }()

    public init(sd1AttentionHeads: Int, sd2AttentionHeadDim: Int, textAttentionHeadDim: Int, unetNormGroups: Int,
                vaeNormGroups: Int, vaeScalingFactor: Double, sdxlAttentionHeadDim: Int = 64,
                secondTextAttentionHeadDim: Int = 64) {
        self.sd1AttentionHeads = sd1AttentionHeads
        self.sd2AttentionHeadDim = sd2AttentionHeadDim
        self.textAttentionHeadDim = textAttentionHeadDim
        self.unetNormGroups = unetNormGroups
        self.vaeNormGroups = vaeNormGroups
        self.vaeScalingFactor = vaeScalingFactor
        self.sdxlAttentionHeadDim = sdxlAttentionHeadDim
        self.secondTextAttentionHeadDim = secondTextAttentionHeadDim
    }
}

/// How a config states attention heads: LDM's `num_heads` (a fixed count) or `num_head_channels` (a width per
/// head, so wider blocks get more heads).
public enum AttentionHeadRule: Equatable, Sendable {
    case count(Int)
    case channelsPerHead(Int)

    public func heads(channels: Int) -> Int {
        switch self {
        case let .count(n): return n
        case let .channelsPerHead(width): return channels / max(width, 1)
        }
    }
}
