import Models
import Weights

/// How `models.list` and `status` describe a ControlNet: family, hint channels, size variant, layout.
///
/// The variant compares the encoder's transformer depth with the family's own UNet (SD 1.x/2.x: one layer per
/// attention level; SDXL: 2 and 10 on its two attention levels): "full" when equal, "reduced" when shallower
/// or narrower (the "mid"/"small" SDXL ControlNets are of this kind; their exact layer counts are not checked),
/// "shuffle" for global-pooling models.
public enum ControlNetVariant {
    static let sdxlDepths = [2, 10]

    public static func name(family: ModelFamilyID, config: ControlNetConfig) -> String {
        if config.globalPoolConditions { return "shuffle" }
        let unet = config.unet
        let levels = unet.downBlockTypes.count
        let depths = (try? unet.transformerLayersPerBlock.expanded(to: levels, field: "")) ?? []
        let attention = zip(unet.downBlockTypes, depths).filter { $0.0 == "CrossAttnDownBlock2D" }.map(\.1)
        let standard = family == .sdxl ? sdxlDepths : Array(repeating: 1, count: attention.count)
        return attention == standard ? "full" : "reduced"
    }

    static func details(family: ModelFamilyID, config: ControlNetConfig, layout: ModelDescription.Layout) -> [String: String] {
        ["family": family.rawValue, "hint_channels": String(config.conditioningChannels),
         "controlnet_variant": name(family: family, config: config), "layout": layout.rawValue,
         "channel_order": config.conditioningChannelOrder]
    }
}
