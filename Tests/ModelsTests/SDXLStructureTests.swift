import Foundation
import Models
import Tensor
import Weights
import XCTest

/// SDXL's real UNet structure on a small random model (three levels, no attention at the first, two layers
/// per level, transformer depths (1, 2, 3), heads (1, 2, 4), the mid block at the last depth, text_time):
/// the tiny SDXL fixtures have two levels of one layer. See scripts/fixtures/make_sdxl_structure_fixture.py.
final class SDXLStructureTests: XCTestCase {
    /// float32 vs PyTorch float32 on identical (fp16-representable) weights: ≤ 1e-4 relative (`relativeError`).
    let tolerance: Float = 1e-4

    private var root: String {
        URL(fileURLWithPath: SDFixtures.root).deletingLastPathComponent()
            .appendingPathComponent("models/sdxl_structure").path
    }

    func testThreeLevelUNetMatchesReference() throws {
        let config = try JSONDecoder().decode(UNetConfig.self,
                                              from: Data(contentsOf: URL(fileURLWithPath: "\(root)/config.json")))
        XCTAssertEqual(config.downBlockTypes, ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"])
        XCTAssertEqual(config.transformerLayersPerBlock, .perBlock([1, 2, 3]))
        let weights = try SafeTensorsFile(path: "\(root)/diffusion_pytorch_model.safetensors")
        let unet = try UNet(config: config, weights: weights)
        XCTAssertEqual(unet.parameterCount, weights.names.reduce(0) { $0 + (weights.shape(of: $1)?.reduce(1, *) ?? 0) },
                       "every stored tensor is held")
        XCTAssertEqual(unet.textTimeEmbedding?.timeIDCount(textEmbedsWidth: 12), 6)
        try ReferenceChecks.textTimeUNet(unet, try SafeTensorsFile(path: "\(root)/reference.safetensors"),
                                         model: "3-level SDXL structure (13×11 latents)", tolerance: tolerance)
    }
}
