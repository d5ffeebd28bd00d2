import XCTest
@testable import Tensor

/// Winograd's kept transformed weights: the same results as transforming every call, only for read-only
/// (memory-mapped) weights, within the capacity, and gone after a purge.
final class TransformedWeightCacheTests: XCTestCase {
    override func setUp() {
        TensorBufferCache.purge()
        WinogradConvolution.minimumTiles4x4 = 1
        WinogradConvolution.minimumChannels = 1
    }

    override func tearDown() {
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumChannels = 16
        TransformedWeightCache.capacityBytes = 768 << 20
        TensorBufferCache.purge()
    }

    /// Weights in memory the tensor only borrows, read-only: what a mapped checkpoint gives.
    final class Holder {
        let pointer: UnsafeMutablePointer<Float>
        init(_ values: [Float]) {
            pointer = .allocate(capacity: values.count)
            pointer.initialize(from: values, count: values.count)
        }
        deinit { pointer.deallocate() }
    }

    /// 16-bit resident weights are read-only too: their transforms are kept (and counted) as those of mapped
    /// float32 weights are, at the float32 size of the transform, with the same results.
    func testHalfResidentWeightsKeepTheirTransforms() throws {
        let x = Float64Checks.randomTensor([2, 8, 12, 12], seed: 1)
        let wide = Float64Checks.randomTensor([6, 8, 3, 3], seed: 2, scale: 0.3)
        let half = Tensor(shape: wide.shape, storage: try XCTUnwrap(wide.storage.narrowed(to: .float16, exactOnly: false)))
        let widened = Tensor(shape: wide.shape, storage: half.storage.widenedToFloat32())
        let fresh = conv2d(x, weight: widened, bias: nil, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 0)
        let first = conv2d(x, weight: half, bias: nil, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 36 * 6 * 8 * 4, "the fp16 layer's F(4x4) transform kept")
        XCTAssertEqual(conv2d(x, weight: half, bias: nil, padding: 1).scalars.map(\.bitPattern), fresh.scalars.map(\.bitPattern))
        XCTAssertEqual(first.scalars.map(\.bitPattern), fresh.scalars.map(\.bitPattern))
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 36 * 6 * 8 * 4, "a hit adds nothing")
        TensorBufferCache.purge()
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 0)
    }

    func testKeptWeightsGiveTheSameResultsAndArePurged() {
        let x = Float64Checks.randomTensor([2, 8, 12, 12], seed: 1)
        let owned = Float64Checks.randomTensor([6, 8, 3, 3], seed: 2, scale: 0.3)
        let holder = Holder(owned.scalars)
        let mapped = Tensor(shape: owned.shape, storage: TensorStorage(borrowing: holder.pointer, count: owned.count,
                                                                        owner: holder, writable: false))
        let bias = Float64Checks.randomTensor([6], seed: 3)
        let fresh = conv2d(x, weight: owned, bias: bias, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 0, "writable weights could change: never kept")

        let first = conv2d(x, weight: mapped, bias: bias, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 36 * 6 * 8 * 4, "one F(4x4) transform kept")
        let second = conv2d(x, weight: mapped, bias: bias, padding: 1)
        XCTAssertEqual(first.scalars, fresh.scalars, "kept and per-call transforms are the same arithmetic")
        XCTAssertEqual(second.scalars, fresh.scalars)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 36 * 6 * 8 * 4, "a hit adds nothing")

        TensorBufferCache.purge()
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 0)
        XCTAssertEqual(conv2d(x, weight: mapped, bias: bias, padding: 1).scalars, fresh.scalars)
    }

    func testCapacityIsRespected() {
        TransformedWeightCache.capacityBytes = 36 * 6 * 8 * 4 - 1
        let x = Float64Checks.randomTensor([1, 8, 10, 10], seed: 4)
        let owned = Float64Checks.randomTensor([6, 8, 3, 3], seed: 5, scale: 0.3)
        let holder = Holder(owned.scalars)
        let mapped = Tensor(shape: owned.shape, storage: TensorStorage(borrowing: holder.pointer, count: owned.count,
                                                                        owner: holder, writable: false))
        XCTAssertEqual(conv2d(x, weight: mapped, bias: nil, padding: 1).scalars,
                       conv2d(x, weight: owned, bias: nil, padding: 1).scalars)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 0, "one byte short of the transform: not kept")
    }

    /// The bound is per network (weights file): a ControlNet running first in each step must not take the
    /// UNet's share. A second layer of the same network over its bound is not kept; `dropKept()` empties all.
    func testEachNetworkHasItsOwnBound() {
        let transform = 36 * 6 * 8 * 4
        TransformedWeightCache.capacityBytes = transform
        let x = Float64Checks.randomTensor([1, 8, 10, 10], seed: 4)
        func mapped(_ holder: Holder, offset: Int = 0) -> Tensor {
            Tensor(shape: [6, 8, 3, 3], storage: TensorStorage(borrowing: holder.pointer + offset, count: 6 * 8 * 9,
                                                               owner: holder, writable: false))
        }
        let controlFile = Holder(Float64Checks.randomTensor([2, 6, 8, 3, 3], seed: 6, scale: 0.3).scalars)
        let unetFile = Holder(Float64Checks.randomTensor([6, 8, 3, 3], seed: 7, scale: 0.3).scalars)
        _ = conv2d(x, weight: mapped(controlFile), bias: nil, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, transform)
        _ = conv2d(x, weight: mapped(controlFile, offset: 6 * 8 * 9), bias: nil, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, transform, "the same network's second layer is over its bound")
        let unetWeights = mapped(unetFile)
        let kept = conv2d(x, weight: unetWeights, bias: nil, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 2 * transform, "another network keeps its own")
        XCTAssertEqual(conv2d(x, weight: unetWeights, bias: nil, padding: 1).scalars, kept.scalars)
        TransformedWeightBudget.dropKept()
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 0)
    }

    /// A LoRA's patched copy (a `TensorArena` tensor) is kept once read-only, with the same results, and counts
    /// against the bound of the network it was patched from: a patched UNet does not get a second 768 MB.
    func testPatchedCopiesAreKeptOnceReadOnlyWithinTheirBaseNetworksBound() {
        let transform = 36 * 6 * 8 * 4
        TransformedWeightCache.capacityBytes = transform
        let x = Float64Checks.randomTensor([1, 8, 10, 10], seed: 4)
        let values = Float64Checks.randomTensor([2, 6, 8, 3, 3], seed: 8, scale: 0.3).scalars
        let unetFile = Holder(values)
        let base = Tensor(shape: [6, 8, 3, 3], storage: TensorStorage(borrowing: unetFile.pointer, count: 6 * 8 * 9,
                                                                      owner: unetFile, writable: false))
        let arena = TensorArena(network: unetFile)
        func patched(_ from: Int) -> (writable: Tensor, sealed: Tensor) {
            var copy = arena.tensor(uninitializedShape: [6, 8, 3, 3])
            copy.withUnsafeMutableBufferPointer { $0.update(fromContentsOf: values[from..<(from + 6 * 8 * 9)]) }
            return (copy, arena.readOnly(copy))
        }
        let first = patched(0)
        XCTAssertEqual(first.sealed.storage.pointer, first.writable.storage.pointer, "the same memory, not a copy")
        XCTAssertFalse(first.sealed.storage.isWritable)
        let fresh = conv2d(x, weight: first.writable, bias: nil, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, 0, "still writable: not kept")
        XCTAssertEqual(conv2d(x, weight: first.sealed, bias: nil, padding: 1).scalars, fresh.scalars)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, transform, "read-only: kept")
        XCTAssertEqual(conv2d(x, weight: first.sealed, bias: nil, padding: 1).scalars, fresh.scalars)
        _ = conv2d(x, weight: patched(6 * 8 * 9).sealed, bias: nil, padding: 1)
        _ = conv2d(x, weight: base, bias: nil, padding: 1)
        XCTAssertEqual(TransformedWeightCache.shared.cachedBytes, transform, "the base network's bound holds the patched copies too")
        TransformedWeightBudget.dropKept()
    }
}
