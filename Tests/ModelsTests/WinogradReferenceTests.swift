import Models
@testable import Tensor
import XCTest

/// The UNet and VAE parity checks again with every 3x3 stride-1 convolution forced through Winograd
/// F(4x4, 3x3) and then F(2x2, 3x3): the tiny fixture models' planes are too small to pick it on their own, while full-size
/// models run most of their work through it.
final class WinogradReferenceTests: XCTestCase {
    /// Same bound as the default path (float32 vs PyTorch float32): ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4

    override func setUp() {
        WinogradConvolution.minimumTiles4x4 = 1
        WinogradConvolution.minimumTiles2x2 = 1
        WinogradConvolution.minimumChannels = 1
    }

    override func tearDown() {
        WinogradConvolution.forcedVariant = nil
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumTiles2x2 = 96
        WinogradConvolution.minimumChannels = 16
    }

    func testUNetMatchesReference() throws {
        for variant in [WinogradConvolution.Variant.f4x4, .f2x2] {
            WinogradConvolution.forcedVariant = variant
            for family in SDFixtures.families {
                let reference = try SDFixtures.reference(family)
                let models = try ModelFiles.load(path: SDFixtures.path(family, "diffusers"))
                try ReferenceChecks.unet(models.unet, reference, family: "\(family) \(variant)", tolerance: tolerance)
            }
        }
    }

    func testVAEMatchesReference() throws {
        for variant in [WinogradConvolution.Variant.f4x4, .f2x2] {
            WinogradConvolution.forcedVariant = variant
            for family in SDFixtures.families {
                let reference = try SDFixtures.reference(family)
                let models = try ModelFiles.load(path: SDFixtures.path(family, "diffusers"))
                try ReferenceChecks.vae(models.vae, reference, family: "\(family) \(variant)", tolerance: tolerance)
            }
        }
    }
}
