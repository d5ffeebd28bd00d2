import Models
import Weights

/// How `models.list` and `status` describe a ControlNet: family, hint channels, size variant, pooling, layout.
///
/// The variant compares the encoder's transformer depth on its attention levels with the family's own UNet
/// (SD 1.x/2.x: one layer per attention level; SDXL: 2 and 10 on its two): "full" when equal, "small" when no
/// attention level has a transformer layer (diffusers' SDXL `-small` ControlNets: depths [0, 0, 0]), "mid" for any
/// other depth (diffusers' `-mid`: [0, 0, 1]). Shuffle-type models are told apart by `global_pool_conditions`,
/// not by the variant: pooling says nothing about the network's size.
public enum ControlNetVariant: String, Sendable {
    case full, mid, small

    static let sdxlDepths = [2, 10]

    public init(family: ModelFamilyID, config: ControlNetConfig) {
        let unet = config.unet
        let levels = unet.downBlockTypes.count
        let depths = (try? unet.transformerLayersPerBlock.expanded(to: levels, field: "")) ?? []
        let attention = zip(unet.downBlockTypes, depths).filter { $0.0 == "CrossAttnDownBlock2D" }.map(\.1)
        let standard = family == .sdxl ? Self.sdxlDepths : Array(repeating: 1, count: attention.count)
        if attention == standard {
            self = .full
        } else {
            self = attention.allSatisfy { $0 == 0 } ? .small : .mid
        }
    }

    public static func name(family: ModelFamilyID, config: ControlNetConfig) -> String {
        ControlNetVariant(family: family, config: config).rawValue
    }

    static func details(family: ModelFamilyID, config: ControlNetConfig, layout: ModelDescription.Layout) -> [String: String] {
        ["family": family.rawValue, "hint_channels": String(config.conditioningChannels),
         "controlnet_variant": name(family: family, config: config), "layout": layout.rawValue,
         "channel_order": config.conditioningChannelOrder,
         "global_pool_conditions": String(config.globalPoolConditions)]
    }
}
