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
}
