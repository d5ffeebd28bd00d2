import Models
@testable import Tensor
import XCTest

/// The SDXL UNet parity checks again through the kernels full-size models run on: every 3x3 stride-1
/// convolution forced through each Winograd variant, and every attention through the register-blocked
/// kernel (the tiny planes and 77-token contexts pick neither on their own).
final class SDXLFastPathTests: XCTestCase {
    /// Same bound as the default path: ≤ 1e-4 relative (see `relativeError`).
    let tolerance: Float = 1e-4

    override func tearDown() {
        WinogradConvolution.forcedVariant = nil
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumTiles2x2 = 96
        WinogradConvolution.minimumChannels = 16
        AttentionKernel.blockedMinimumKeys = 256
    }

    func testUNetThroughWinograd() throws {
        WinogradConvolution.minimumTiles4x4 = 1
        WinogradConvolution.minimumTiles2x2 = 1
        WinogradConvolution.minimumChannels = 1
        for variant in [WinogradConvolution.Variant.f4x4, .f2x2] {
            WinogradConvolution.forcedVariant = variant
            for model in SDXLFixtures.models {
                let unet = try ModelFiles.load(path: SDXLFixtures.path(model, "diffusers")).unet
                try ReferenceChecks.textTimeUNet(unet, try SDXLFixtures.reference(model), model: "\(model) \(variant)",
                                                 tolerance: tolerance)
            }
        }
    }

    func testUNetThroughBlockedAttention() throws {
        AttentionKernel.blockedMinimumKeys = 1
        for model in SDXLFixtures.models {
            let unet = try ModelFiles.load(path: SDXLFixtures.path(model, "diffusers")).unet
            try ReferenceChecks.textTimeUNet(unet, try SDXLFixtures.reference(model), model: "\(model) blocked attention",
                                             tolerance: tolerance)
        }
    }
}
