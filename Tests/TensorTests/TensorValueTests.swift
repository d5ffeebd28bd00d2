import XCTest
@testable import Tensor

final class TensorValueTests: XCTestCase {
    func testOwnedStorageIsCacheLineAligned() {
        for count in [0, 1, 3, 17, 1000] {
            let storage = TensorStorage(count: count, repeating: 1)
            XCTAssertEqual(Int(bitPattern: storage.pointer) % 64, 0, "count \(count)")
        }
    }

    func testCopyOnWriteLeavesOriginalUnchanged() {
        let original = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        var copy = original
        copy.withUnsafeMutableBufferPointer { $0[0] = 10 }
        XCTAssertEqual(original.scalars, [1, 2, 3, 4])
        XCTAssertEqual(copy.scalars, [10, 2, 3, 4])
    }

    func testUniqueTensorIsMutatedInPlace() {
        var tensor = Tensor(shape: [3], values: [1, 2, 3])
        let before = tensor.storage.pointer
        tensor.withUnsafeMutableBufferPointer { $0[1] = 7 }
        XCTAssertEqual(tensor.storage.pointer, before)
        XCTAssertEqual(tensor.scalars, [1, 7, 3])
    }

    final class Owner {
        let buffer: UnsafeMutablePointer<Float>
        let onDeinit: () -> Void
        init(count: Int, onDeinit: @escaping () -> Void) {
            buffer = .allocate(capacity: count)
            for i in 0..<count { buffer[i] = Float(i) }
            self.onDeinit = onDeinit
        }
        deinit {
            buffer.deallocate()
            onDeinit()
        }
    }

    func testBorrowedStorageKeepsOwnerAliveAndCopiesBeforeWriting() {
        var released = false
        var tensor: Tensor?
        do {
            let owner = Owner(count: 6) { released = true }
            let storage = TensorStorage(borrowing: owner.buffer, count: 6, owner: owner)
            tensor = Tensor(shape: [2, 3], storage: storage)
        }
        XCTAssertFalse(released, "the tensor must keep the owner (e.g. an mmap) alive")
        XCTAssertEqual(tensor?.scalars, [0, 1, 2, 3, 4, 5])
        let borrowedPointer = tensor?.storage.pointer
        tensor?.withUnsafeMutableBufferPointer { $0[0] = 42 }
        XCTAssertNotEqual(tensor?.storage.pointer, borrowedPointer, "read-only borrowed memory is copied before a write")
        XCTAssertEqual(tensor?.scalars.first, 42)
        tensor = nil
        XCTAssertTrue(released)
    }

    func testReshapedInfersOneDimensionAndSharesStorage() {
        let tensor = Tensor(shape: [2, 3, 4], repeating: 1)
        let reshaped = tensor.reshaped([4, -1])
        XCTAssertEqual(reshaped.shape, [4, 6])
        XCTAssertTrue(reshaped.storage === tensor.storage)
    }

    func testBatchSubscriptCopiesOneSample() {
        let tensor = Tensor(shape: [3, 2], values: [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(tensor[batch: 1].shape, [2])
        XCTAssertEqual(tensor[batch: 1].scalars, [2, 3])
        XCTAssertEqual(tensor[batch: 2].scalars, [4, 5])
    }

    func testArithmetic() {
        let a = Tensor(shape: [2, 2], values: [1, 2, 3, 4])
        let b = Tensor(shape: [2, 2], values: [10, 20, 30, 40])
        // Exact: every result is a small integer or a power-of-two fraction.
        XCTAssertEqual((a + b).scalars, [11, 22, 33, 44])
        XCTAssertEqual((b - a).scalars, [9, 18, 27, 36])
        XCTAssertEqual((a * b).scalars, [10, 40, 90, 160])
        XCTAssertEqual((a * 0.5).scalars, [0.5, 1, 1.5, 2])
        XCTAssertEqual((a + 1).scalars, [2, 3, 4, 5])
        var c = a
        c.addInPlace(b)
        XCTAssertEqual(c.scalars, [11, 22, 33, 44])
        XCTAssertEqual(a.scalars, [1, 2, 3, 4], "addInPlace on a copy must not touch the original")
        c += a
        XCTAssertEqual(c.scalars, [12, 24, 36, 48])
    }

    func testChannelBiasBroadcast() {
        let x = Tensor(shape: [2, 2, 1, 2], values: [0, 0, 0, 0, 1, 1, 1, 1])
        let bias = Tensor(shape: [2], values: [10, 20])
        XCTAssertEqual(addChannelBias(x, bias).scalars, [10, 10, 20, 20, 11, 11, 21, 21])
    }

    func testMatmulIntegers() {
        let a = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], values: [7, 8, 9, 10, 11, 12])
        // Integer products are exact in float32.
        XCTAssertEqual(matmul(a, b).scalars, [58, 64, 139, 154])
    }
}
