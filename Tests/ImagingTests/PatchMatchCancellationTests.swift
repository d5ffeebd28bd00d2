import Foundation
import XCTest
@testable import Imaging

/// PatchMatch on a large hole runs for many seconds; a job must be able to stop it well within a second.
final class PatchMatchCancellationTests: XCTestCase {
    /// A 256×256 level with a 160×160 hole: the full fill takes seconds in a debug build.
    func bigLevel() -> PatchLevel {
        let w = 256, h = 256, c = 3
        var values = [Float](repeating: 0, count: w * h * c)
        var hole = [Bool](repeating: false, count: w * h)
        for y in 0 ..< h {
            for x in 0 ..< w {
                for k in 0 ..< c { values[(y * w + x) * c + k] = Float((x * 7 + y * 13 + k * 50) % 256) }
                if x >= 48, x < 208, y >= 48, y < 208 { hole[y * w + x] = true }
            }
        }
        return PatchLevel(width: w, height: h, channels: c, values: values, hole: hole)
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var set: Date?
        private(set) var polls = 0
        func cancel() { lock.lock(); set = Date(); lock.unlock() }
        var cancelledAt: Date? { lock.lock(); defer { lock.unlock() }; return set }
        func poll() -> Bool { lock.lock(); defer { lock.unlock() }; polls += 1; return set != nil }
    }

    func testCancelMidFillThrowsPromptly() throws {
        let flag = Flag()
        let options = PatchMatchOptions(patchRadius: 3, iterations: 4, seed: 1, shouldCancel: { flag.poll() })
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { flag.cancel() }
        var output: PatchLevel?
        XCTAssertThrowsError(output = try PatchMatchFill.fill(bigLevel(), options: options)) { error in
            XCTAssertEqual(error as? ImagingError, .cancelled(operation: "PatchMatch fill"))
        }
        let stopped = Date()
        XCTAssertNil(output, "a cancelled fill returns no level")
        let cancelledAt = try XCTUnwrap(flag.cancelledAt, "the fill finished before the cancel was sent")
        // "Well under a second": polls come every 256 patches or rows, a few ms apart even in debug builds.
        XCTAssertLessThan(stopped.timeIntervalSince(cancelledAt), 0.5, "fill kept running after the cancel")
        XCTAssertGreaterThan(flag.polls, 1, "polled during the fill, not only at the start")
    }

    func testAlreadyCancelledDoesNoWorkAndLeavesNoImage() throws {
        let (image, mask) = try holed(width: 64, height: 48)
        let options = PatchMatchOptions(seed: 3, shouldCancel: { true })
        XCTAssertThrowsError(try image.filled(through: mask, method: .patchMatch(options))) { error in
            XCTAssertEqual(error as? ImagingError, .cancelled(operation: "PatchMatch fill"))
        }
    }

    /// A closure that never cancels changes nothing: the result equals the fill without a closure, bit for bit.
    func testNeverCancellingClosureKeepsTheResult() throws {
        let (image, mask) = try holed(width: 40, height: 30)
        let plain = try image.filled(through: mask, method: .patchMatch(PatchMatchOptions(patchRadius: 2, seed: 5))).bytes()
        let polled = try image.filled(through: mask, method: .patchMatch(
            PatchMatchOptions(patchRadius: 2, seed: 5, shouldCancel: { false }))).bytes()
        XCTAssertEqual(plain, polled)
    }

    func holed(width w: Int, height h: Int) throws -> (VipsImage, Mask) {
        let image = try Pictures.rgb8(width: w, height: h)
        var m = [Float](repeating: 0, count: w * h)
        for y in h / 4 ..< h * 3 / 4 { for x in w / 4 ..< w * 3 / 4 { m[y * w + x] = 1 } }
        return (image, try Mask(values: m, width: w, height: h))
    }
}
