import Foundation
import Models
import Tensor
import XCTest

/// The same network from a Real-ESRGAN style .pth (pickle, `params_ema`) and from safetensors, and a hostile
/// pickle refused (fixtures made by scripts/fixtures/make_upscale_fixtures.py).
final class UpscalerFormatTests: XCTestCase {
    func testPthLoadsBitIdenticalToSafetensors() throws {
        let pth = try UpscalerModel.load(path: UpscaleFixtures.fixtures + "/tiny_compact.pth")
        let st = try UpscalerModel.load(path: UpscaleFixtures.fixtures + "/tiny_compact.safetensors")
        XCTAssertEqual(pth.architecture, "SRVGGNetCompact")
        XCTAssertEqual(pth.network.scale, 4)
        let input = try UpscaleFixtures.photo("photo32.png")
        // Same weights, same code: the outputs must be identical, not merely close.
        XCTAssertEqual(pth.network.forward(input).scalars, st.network.forward(input).scalars)
    }

    func testPickleCallingOSSystemIsRefusedAndNothingRuns() {
        let marker = "/tmp/diffusiond-upscale-pwned"
        unlink(marker)
        XCTAssertThrowsError(try UpscalerModel.load(path: UpscaleFixtures.fixtures + "/evil.pth")) { error in
            XCTAssertTrue("\(error)".contains("system"), "the refusal should name the global: \(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker))
    }

    func testUnknownFileTypeIsRefused() {
        XCTAssertThrowsError(try UpscalerModel.load(path: UpscaleFixtures.fixtures + "/photo32.png")) { error in
            XCTAssertEqual(error as? UpscalerLoadError, .unsupportedFile(path: UpscaleFixtures.fixtures + "/photo32.png"))
        }
    }
}
