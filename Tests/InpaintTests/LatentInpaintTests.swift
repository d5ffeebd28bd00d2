import Engine
import Tensor
import XCTest

final class LatentInpaintTests: XCTestCase {
    /// torch: F.interpolate(arange(25).view(1,1,5,5), size=(3,3)) picks rows/cols floor(i·5/3) = 0, 1, 3.
    func testNearestResizeMatchesTorchIndexing() {
        let x = Tensor(shape: [1, 1, 5, 5], values: (0 ..< 25).map(Float.init))
        let y = resizeNearest(x, height: 3, width: 3)
        XCTAssertEqual(y.shape, [1, 1, 3, 3])
        XCTAssertEqual(y.scalars, [0, 1, 3, 5, 6, 8, 15, 16, 18])
        // /8 latent mask: pixel (8i, 8j).
        let m = Tensor(shape: [1, 1, 16, 16], values: (0 ..< 256).map(Float.init))
        XCTAssertEqual(LatentInpaintMask.latentMask(m).scalars, [0, 8, 128, 136])
    }

    /// image * (mask < 0.5), the mask broadcast over channels; binarise at ≥ 0.5.
    func testMaskedImageAndBinarize() throws {
        let image = Tensor(shape: [1, 2, 1, 3], values: [0.5, -0.25, 1, -1, 0.75, 0.1])
        let mask = Tensor(shape: [1, 1, 1, 3], values: [0, 0.5, 0.49])
        XCTAssertEqual(try LatentInpaintMask.maskedImage(image, mask: mask).scalars, [0.5, 0, 1, -1, 0, 0.1])
        XCTAssertEqual(LatentInpaintMask.binarized(mask).scalars, [0, 1, 0])
        XCTAssertThrowsError(try LatentInpaintMask.maskedImage(image, mask: Tensor(shape: [1, 1, 2, 3])))
    }

    /// The 9-channel input is cat([latents, mask, masked_image_latents], dim 1), conditions repeated over the batch.
    func testUNetInputChannelOrder() throws {
        let latents = Tensor(shape: [2, 4, 1, 1], values: [1, 2, 3, 4, 5, 6, 7, 8])
        let mask = Tensor(shape: [1, 1, 1, 1], values: [9])
        let masked = Tensor(shape: [1, 4, 1, 1], values: [10, 11, 12, 13])
        let input = try LatentInpaintMask.unetInput(latents: latents, mask: mask, maskedImageLatents: masked)
        XCTAssertEqual(input.shape, [2, 9, 1, 1])
        XCTAssertEqual(input.scalars, [1, 2, 3, 4, 9, 10, 11, 12, 13, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    }

    /// Hard blend: m·x + (1 − m)·(x0 + σ_{i+1}·ε); the last step (σ = 0) leaves exactly x0 where m = 0.
    func testHardBlendRenoisesTheKeptAreaAndEndsOnTheOriginal() throws {
        let mask = Tensor(shape: [1, 1, 1, 3], values: [1, 0, 0.25])
        let x0 = Tensor(shape: [1, 1, 1, 3], values: [0.5, -0.5, 2])
        let eps = Tensor(shape: [1, 1, 1, 3], values: [1, 2, -1])
        let blend = try InpaintLatentBlend(mask: mask, original: x0, noise: eps, sigmas: [3, 1.5, 0], mode: .hard)
        let x = Tensor(shape: [1, 1, 1, 3], values: [7, 7, 7])
        // step 0 → σ = 1.5: [7, -0.5 + 3, 0.75·(2 − 1.5) + 0.25·7]
        XCTAssertEqual(try blend(x, 0).scalars, [7, 2.5, 0.75 * 0.5 + 0.25 * 7])
        // last step → σ = 0: the original itself where m = 0.
        XCTAssertEqual(try blend(x, 1).scalars, [7, -0.5, 0.75 * 2 + 0.25 * 7])
    }

    /// Soft blend releases a pixel once 1 − (i + 1)/N drops below its level; it never mixes.
    func testSoftBlendReleasesPixelsByLevel() throws {
        let levels: [Float] = [1, 0.6, 0.3, 0]
        let mask = Tensor(shape: [1, 1, 1, 4], values: levels)
        let zeros = Tensor(shape: [1, 1, 1, 4])
        let blend = try InpaintLatentBlend(mask: mask, original: zeros, noise: zeros, sigmas: [4, 3, 2, 1, 0], mode: .soft)
        let x = Tensor(shape: [1, 1, 1, 4], values: [1, 1, 1, 1])
        // N = 4 thresholds after steps 0…3: 0.75, 0.5, 0.25, 0.
        XCTAssertEqual(try blend(x, 0).scalars, [1, 0, 0, 0])
        XCTAssertEqual(try blend(x, 1).scalars, [1, 1, 0, 0])
        XCTAssertEqual(try blend(x, 2).scalars, [1, 1, 1, 0])
        XCTAssertEqual(try blend(x, 3).scalars, [1, 1, 1, 0], "level 0 is never released")
    }

    func testLatentFillReplacesOnlyTheMaskedArea() throws {
        let latents = Tensor(shape: [1, 2, 1, 2], values: [1, 2, 3, 4])
        let mask = Tensor(shape: [1, 1, 1, 2], values: [0, 1])
        XCTAssertEqual(try LatentFill.apply(latents, mask: mask, replacement: Tensor(shape: [1, 2, 1, 2])).scalars, [1, 0, 3, 0])
        let noise = Tensor(shape: [1, 2, 1, 2], values: [9, 8, 7, 6])
        XCTAssertEqual(try LatentFill.apply(latents, mask: mask, replacement: noise).scalars, [1, 8, 3, 6])
    }
}
