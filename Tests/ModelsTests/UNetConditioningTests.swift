import Foundation
import Models
import Tensor
import Weights
import XCTest

/// ControlNet residuals (diffusers' `down_block_additional_residuals` / `mid_block_additional_residual`) and the
/// inputs an SD 1.x/2.x UNet must refuse.
final class UNetConditioningTests: XCTestCase {
    private func inputs() -> (latents: Tensor, context: Tensor) {
        var state: UInt32 = 12345
        func values(_ count: Int) -> [Float] {
            (0..<count).map { _ in
                state = state &* 1_664_525 &+ 1_013_904_223
                return Float(state >> 8) / Float(1 << 24) * 2 - 1
            }
        }
        // 13 × 11: odd sides, so the downsampler's output size matters.
        return (Tensor(shape: [2, 4, 13, 11], values: values(2 * 4 * 13 * 11)), Tensor(shape: [2, 7, 32], values: values(2 * 7 * 32)))
    }

    private func residual(_ shape: [Int], value: (Int) -> Float) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, values: (0..<count).map(value))
    }

    func testZeroResidualsAreBitIdentical() throws {
        for family in ["sd1", "sd2v"] {
            let unet = try ModelFiles.load(path: SDFixtures.path(family, "diffusers")).unet
            let (latents, context) = inputs()
            let plain = try unet.forward(latents: latents, timesteps: [981, 3], context: context)
            let shapes = unet.controlResidualShapes(batch: 2, height: 13, width: 11)
            XCTAssertEqual(shapes.down.count, unet.skipConnectionCount)
            let zero = ControlResiduals(down: shapes.down.map { Tensor(shape: $0) }, mid: Tensor(shape: shapes.mid))
            let controlled = try unet.forward(latents: latents, timesteps: [981, 3],
                                              conditioning: UNetConditioning(context: context, control: zero))
            XCTAssertEqual(controlled.scalars, plain.scalars, "\(family): zero residuals change nothing")
        }
    }

    /// A residual for one batch element changes that element's prediction and leaves the other's bit for bit
    /// (what classifier-free guidance relies on when only one half is controlled).
    func testResidualsChangeOnlyTheirBatchElement() throws {
        let unet = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers")).unet
        let (latents, context) = inputs()
        let plain = try unet.forward(latents: latents, timesteps: [500], context: context)
        let shapes = unet.controlResidualShapes(batch: 2, height: 13, width: 11)
        func secondOnly(_ shape: [Int]) -> Tensor {
            let half = shape.reduce(1, *) / 2
            return residual(shape) { $0 < half ? 0 : Float($0 % 7) * 0.05 - 0.15 }
        }
        let cases: [(String, ControlResiduals)] = [
            ("down", ControlResiduals(down: shapes.down.map(secondOnly), mid: Tensor(shape: shapes.mid))),
            ("mid", ControlResiduals(down: shapes.down.map { Tensor(shape: $0) }, mid: secondOnly(shapes.mid))),
            ("first skip only", ControlResiduals(down: shapes.down.enumerated().map { $0 == 0 ? secondOnly($1) : Tensor(shape: $1) },
                                                 mid: Tensor(shape: shapes.mid))),
        ]
        for (name, control) in cases {
            let out = try unet.forward(latents: latents, timesteps: [500],
                                       conditioning: UNetConditioning(context: context, control: control))
            XCTAssertEqual(out[batch: 0].scalars, plain[batch: 0].scalars, "\(name): the uncontrolled element is untouched")
            XCTAssertGreaterThan(relativeError(out[batch: 1], plain[batch: 1]), 1e-3, "\(name): the controlled element changes")
        }
    }

    func testMalformedConditioningThrows() throws {
        let unet = try ModelFiles.load(path: SDFixtures.path("sd1", "diffusers")).unet
        let (latents, context) = inputs()
        let shapes = unet.controlResidualShapes(batch: 2, height: 13, width: 11)
        let short = ControlResiduals(down: shapes.down.dropLast().map { Tensor(shape: $0) }, mid: Tensor(shape: shapes.mid))
        XCTAssertThrowsError(try unet.forward(latents: latents, timestep: 1, conditioning: UNetConditioning(context: context, control: short))) {
            XCTAssertEqual($0 as? UNetError, .controlResidualCount(found: shapes.down.count - 1, skipConnections: shapes.down.count))
        }
        var down = shapes.down.map { Tensor(shape: $0) }
        down[1] = Tensor(shape: [2, 1, 13, 11])
        XCTAssertThrowsError(try unet.forward(latents: latents, timestep: 1,
                                              conditioning: UNetConditioning(context: context, control: ControlResiduals(down: down, mid: Tensor(shape: shapes.mid))))) {
            XCTAssertEqual($0 as? UNetError, .controlResidualShape(index: 1, found: [2, 1, 13, 11], expected: shapes.down[1]))
        }
        let badMid = ControlResiduals(down: shapes.down.map { Tensor(shape: $0) }, mid: Tensor(shape: [2, 1, 1, 1]))
        XCTAssertThrowsError(try unet.forward(latents: latents, timestep: 1, conditioning: UNetConditioning(context: context, control: badMid))) {
            XCTAssertEqual($0 as? UNetError, .controlResidualShape(index: nil, found: [2, 1, 1, 1], expected: shapes.mid))
        }
        let added = AddedConditioning(textEmbeds: Tensor(shape: [2, 32]), timeIDs: Tensor(shape: [2, 6]))
        XCTAssertThrowsError(try unet.forward(latents: latents, timestep: 1, conditioning: UNetConditioning(context: context, added: added))) {
            XCTAssertEqual($0 as? UNetError, .addedConditioningUnsupported)
        }
    }
}
