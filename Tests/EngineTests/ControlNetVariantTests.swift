import Engine
import Models
import Weights
import XCTest

/// `controlnet_variant` from the encoder's transformer depths against the family's UNet: diffusers' SDXL
/// ControlNets (full [1, 2, 10] — its first level has no attention — mid [0, 0, 1], small [0, 0, 0]) and SD 1.x/2.x
/// ones; pooling does not change the variant.
final class ControlNetVariantTests: XCTestCase {
    func config(blocks: [String], depths: [Int], pooled: Bool = false) -> ControlNetConfig {
        var config = ControlNetConfig()
        config.unet.downBlockTypes = blocks
        config.unet.transformerLayersPerBlock = .perBlock(depths)
        config.globalPoolConditions = pooled
        return config
    }

    func testVariantsFromTransformerDepths() {
        let xl = ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"]
        XCTAssertEqual(ControlNetVariant(family: .sdxl, config: config(blocks: xl, depths: [1, 2, 10])), .full)
        XCTAssertEqual(ControlNetVariant(family: .sdxl, config: config(blocks: xl, depths: [0, 2, 10])), .full,
                       "a level without attention does not count")
        XCTAssertEqual(ControlNetVariant(family: .sdxl, config: config(blocks: xl, depths: [0, 0, 1])), .mid)
        XCTAssertEqual(ControlNetVariant(family: .sdxl, config: config(blocks: xl, depths: [0, 0, 0])), .small)
        XCTAssertEqual(ControlNetVariant(family: .sdxl, config: config(blocks: xl, depths: [0, 1, 4])), .mid)
        let sd = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
        for family: ModelFamilyID in [.sd1, .sd2] {
            XCTAssertEqual(ControlNetVariant(family: family, config: config(blocks: sd, depths: [1, 1, 1, 1])), .full)
            XCTAssertEqual(ControlNetVariant(family: family, config: config(blocks: sd, depths: [1, 1, 1, 1], pooled: true)), .full,
                           "a shuffle model is flagged by global_pool_conditions, not by the variant")
            XCTAssertEqual(ControlNetVariant(family: family, config: config(blocks: sd, depths: [0, 0, 1, 1])), .mid)
            XCTAssertEqual(ControlNetVariant(family: family, config: config(blocks: sd, depths: [0, 0, 0, 0])), .small)
        }
        XCTAssertEqual(ControlNetVariant.name(family: .sdxl, config: config(blocks: xl, depths: [0, 0, 1])), "mid")
    }
}
