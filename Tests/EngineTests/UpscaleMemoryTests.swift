@testable import Engine
@testable import Models
import XCTest

/// The upscale estimate counts the trunk's kept Winograd transforms exactly where the tile context is small
/// enough for them to be kept (`TransformedWeightCache.maximumTiles`): RRDBNet at tile 32 peaked 268 MB above
/// its activations through them while the estimate said nothing of them.
final class UpscaleMemoryTests: XCTestCase {
    private let rrdb = UpscalerFootprint(weightBytes: 67_000_000, features: 64, growth: 32, scale: 4, inputMultiple: 1,
                                         receptiveRadius: 346, isRRDB: true)

    func testTransformsAreCountedWhereSmallPlanesKeepThem() {
        let kept = UpscaleMemory.workingBytes(rrdb, tile: 32, pad: 32, smallestSide: 64)   // 16x16 tiles: kept
        let notKept = UpscaleMemory.workingBytes(rrdb, tile: 32, pad: 32, smallestSide: 68)  // 17x17 tiles
        XCTAssertEqual(kept - notKept, 67_000_000 / 9 * 36)
        XCTAssertEqual(UpscaleMemory.workingBytes(rrdb, tile: 32, pad: 32), kept, "an unknown image size counts them")
    }

    func testTransformsStayWithinTheirBound() {
        let huge = UpscalerFootprint(weightBytes: 1 << 30, features: 64, growth: 32, scale: 4, inputMultiple: 1,
                                     receptiveRadius: 346, isRRDB: true)
        let with = UpscaleMemory.workingBytes(huge, tile: 32, pad: 0, smallestSide: 32)
        let without = UpscaleMemory.workingBytes(huge, tile: 32, pad: 0, smallestSide: 1024)
        XCTAssertEqual(with - without, 768 << 20)
    }

    /// The pixel-unshuffling variants (x2: trunk at half resolution) keep transforms up to twice the side.
    func testTrunkResolutionDecides() {
        var x2 = rrdb
        x2.inputMultiple = 2
        x2.scale = 2
        let at128 = UpscaleMemory.workingBytes(x2, tile: 96, pad: 32, smallestSide: 128)
        let at136 = UpscaleMemory.workingBytes(x2, tile: 96, pad: 32, smallestSide: 136)
        XCTAssertEqual(at128 - at136, 67_000_000 / 9 * 36)
    }
}
