import XCTest
@testable import Tensor

final class TensorBufferCacheTests: XCTestCase {
    override func tearDown() {
        TensorBufferCache.capacityBytes = 512 << 20
        TensorBufferCache.purge()
    }

    func testLargeBufferIsReusedForTheSameSize() {
        TensorBufferCache.purge()
        let shape = [1, 4, 256, 256]  // 1 MiB: the smallest cached size
        var address: UnsafeMutablePointer<Float>?
        do {
            let first = Tensor(shape: shape, repeating: 1)
            address = first.storage.pointer
        }
        XCTAssertEqual(TensorBufferCache.cachedBytes, 1 << 20)
        let second = Tensor(shape: shape, repeating: 2)
        XCTAssertEqual(second.storage.pointer, address, "a freed buffer of the same size is handed out again")
        XCTAssertEqual(TensorBufferCache.cachedBytes, 0)
        XCTAssertTrue(second.scalars.allSatisfy { $0 == 2 }, "reused memory is initialised like fresh memory")
        XCTAssertEqual(Int(bitPattern: second.storage.pointer) % 64, 0)
    }

    func testSmallBuffersAreNotCached() {
        TensorBufferCache.purge()
        _ = Tensor(shape: [1000], repeating: 1)
        XCTAssertEqual(TensorBufferCache.cachedBytes, 0)
    }

    func testCapacityEvictsOldestAndPurgeEmpties() {
        TensorBufferCache.purge()
        TensorBufferCache.capacityBytes = 3 << 20
        for megabytes in 1...3 {
            _ = Tensor(shape: [megabytes, 1 << 18])
        }
        // 1 + 2 MiB fit; adding 3 MiB evicts the oldest until it fits (both), leaving 3 MiB.
        XCTAssertEqual(TensorBufferCache.cachedBytes, 3 << 20)
        TensorBufferCache.capacityBytes = 1 << 20
        XCTAssertEqual(TensorBufferCache.cachedBytes, 0, "lowering the capacity frees what no longer fits")
        _ = Tensor(shape: [1, 1 << 18])
        XCTAssertEqual(TensorBufferCache.cachedBytes, 1 << 20)
        TensorBufferCache.purge()
        XCTAssertEqual(TensorBufferCache.cachedBytes, 0)
    }

    func testBorrowedMemoryIsNeverCached() {
        TensorBufferCache.purge()
        let count = 1 << 18
        let owner = TensorValueTests.Owner(count: count) {}
        do {
            _ = Tensor(shape: [count], storage: TensorStorage(borrowing: owner.buffer, count: count, owner: owner))
        }
        XCTAssertEqual(TensorBufferCache.cachedBytes, 0)
    }
}
