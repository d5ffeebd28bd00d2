/// A T2I-Adapter's architecture: diffusers' `T2IAdapter` config (`config.json`), or what a single file's tensors
/// imply (`T2IAdapterFiles.inferConfig`).
public struct T2IAdapterConfig: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// TencentARC's Adapter: conv_in, then one block per level, each but the first downsampling.
        case full = "full_adapter"
        /// The SDXL variant: only the third block downsamples (SDXL's first level has no attention).
        case fullXL = "full_adapter_xl"
        /// Adapter-Light: bottleneck blocks (a quarter of the width inside), no conv_in, one extra level.
        case light = "light_adapter"
    }

    public var inChannels: Int
    public var channels: [Int]
    public var numResBlocks: Int
    public var downscaleFactor: Int
    public var kind: Kind

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", channels, numResBlocks = "num_res_blocks"
        case downscaleFactor = "downscale_factor", kind = "adapter_type"
    }

    public init(inChannels: Int, channels: [Int], numResBlocks: Int, downscaleFactor: Int, kind: Kind) {
        self.inChannels = inChannels
        self.channels = channels
        self.numResBlocks = numResBlocks
        self.downscaleFactor = downscaleFactor
        self.kind = kind
    }

    /// diffusers' defaults for keys a config leaves out.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? 3
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .full
        channels = try c.decodeIfPresent([Int].self, forKey: .channels) ?? (kind == .light ? [320, 640, 1280] : [320, 640, 1280, 1280])
        numResBlocks = try c.decodeIfPresent(Int.self, forKey: .numResBlocks) ?? (kind == .light ? 4 : 2)
        downscaleFactor = try c.decodeIfPresent(Int.self, forKey: .downscaleFactor) ?? (kind == .fullXL ? 16 : 8)
    }

    /// "full", "light" or "xl", as `models.list` reports the variant.
    public var variant: String {
        switch kind {
        case .full: return "full"
        case .fullXL: return "xl"
        case .light: return "light"
        }
    }

    /// Which Stable Diffusion family the features are shaped for: XL adapters feed SDXL's blocks, the others
    /// SD 1.x/2.x's (which share block widths).
    public var family: String { kind == .fullXL ? "sdxl" : "sd1" }

    /// Feature maps the adapter makes: one per level, light adapters one more (their last width repeated).
    public var levelCount: Int { kind == .light ? channels.count + 1 : channels.count }

    /// Level `i`'s input and output widths and whether it starts with the 2×2 average pool (diffusers'
    /// FullAdapter: every level but the first; FullAdapterXL: only the third; LightAdapter: every but the first).
    /// The first level's input is conv_in's output (full, XL) or the unshuffled picture (light).
    public func level(_ i: Int) -> (input: Int, output: Int, downsamples: Bool) {
        let c = channels
        switch kind {
        case .full: return (i == 0 ? c[0] : c[i - 1], c[i], i > 0)
        case .fullXL: return (i == 1 || i == 2 ? c[i - 1] : c[i], c[i], i == 2)
        case .light:
            let input = i == 0 ? inChannels * downscaleFactor * downscaleFactor : c[min(i - 1, c.count - 1)]
            return (input, c[min(i, c.count - 1)], i > 0)
        }
    }

    func validate() throws {
        guard inChannels > 0, !channels.isEmpty, channels.allSatisfy({ $0 > 0 }),
              numResBlocks > 0, downscaleFactor > 0 else {
            throw ModelLoadError.invalidConfig("T2I-Adapter config out of range: in \(inChannels), channels \(channels), res blocks \(numResBlocks), downscale \(downscaleFactor)")
        }
        if kind == .light, channels.contains(where: { $0 % 4 != 0 }) {
            throw ModelLoadError.invalidConfig("light adapter channels must be multiples of 4, got \(channels)")
        }
    }
}
