import Foundation
import XCTest
@testable import Tensor

final class ParallelTests: XCTestCase {
    override func tearDown() {
        ComputeConfig.setThreads(ComputeConfig.defaultThreads)
    }

    func testEveryIndexRunsExactlyOnce() {
        for threads in [1, 2, 3] {
            ComputeConfig.setThreads(threads)
            XCTAssertEqual(ComputeConfig.threads, threads)
            let count = 1000
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            defer { hits.deallocate() }
            Parallel.forEach(0..<count) { hits[$0] += 1 }
            XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 1 }, "threads \(threads)")
        }
    }

    func testNestedLoopsRunAndCover() {
        ComputeConfig.setThreads(2)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 100)
        hits.initialize(repeating: 0, count: 100)
        defer { hits.deallocate() }
        Parallel.forEach(0..<10) { outer in
            Parallel.forEach(0..<10) { inner in hits[outer * 10 + inner] += 1 }
        }
        XCTAssertTrue((0..<100).allSatisfy { hits[$0] == 1 })
    }

    func testSlicesPartitionTheRange() {
        ComputeConfig.setThreads(2)
        let count = 100_003
        let hits = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        hits.initialize(repeating: 0, count: count)
        defer { hits.deallocate() }
        Parallel.forEachSlice(count: count, grain: 1000) { range in
            for i in range { hits[i] += 1 }
        }
        XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 1 })
    }

    func testGemmFromInsideParallelBodiesIsCorrect() {
        // Each body runs its own product; the worker-thread path must stay serial and correct.
        ComputeConfig.setThreads(2)
        let a = Tensor(shape: [40, 30], values: (0..<1200).map { Float($0 % 7) })
        let b = Tensor(shape: [30, 50], values: (0..<1500).map { Float($0 % 5) })
        let expected = matmul(a, b).scalars
        let results = UnsafeMutablePointer<Bool>.allocate(capacity: 8)
        defer { results.deallocate() }
        Parallel.forEach(0..<8) { results[$0] = matmul(a, b).scalars == expected }
        XCTAssertTrue((0..<8).allSatisfy { results[$0] }, "small-integer products are exact")
    }

    func testConcurrentCallersFromOtherThreadsAreCorrect() {
        // Two request threads using the pool at once: one gets it, the other runs serially; both
        // must see complete, correct results (exact small-integer sums).
        ComputeConfig.setThreads(2)
        let a = Tensor(shape: [64, 48], values: (0..<3072).map { Float($0 % 5) })
        let b = Tensor(shape: [48, 96], values: (0..<4608).map { Float($0 % 3) })
        let expected = matmul(a, b).scalars
        final class Failures: @unchecked Sendable {
            private let lock = NSLock()
            private var count = 0
            func add() { lock.lock(); count += 1; lock.unlock() }
            var value: Int { lock.lock(); defer { lock.unlock() }; return count }
        }
        let group = DispatchGroup()
        let failures = Failures()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                for _ in 0..<20 {
                    let ok = matmul(a, b).scalars == expected && (silu(a) - silu(a)).scalars.allSatisfy { $0 == 0 }
                    if !ok { failures.add() }
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success, "concurrent callers must not deadlock")
        XCTAssertEqual(failures.value, 0)
    }
}
