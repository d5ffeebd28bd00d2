import XCTest
@testable import Sampling

/// torch.randn on the CPU generator must be reproduced bit for bit (tolerance: exact equality
/// of the float32 bit patterns), including the state carried between draws.
final class TorchCPUGeneratorTests: XCTestCase {
    private func shapeFromKey(_ key: String) -> [Int] {
        key.split(separator: "_").last.map { $0.split(separator: "x").compactMap { Int($0) } } ?? []
    }

    private func assertBitExact(_ got: [Float], _ want: [Float], _ label: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.count, want.count, label, file: file, line: line)
        let mismatches = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
        XCTAssertEqual(mismatches, 0, "\(label): \(mismatches) of \(want.count) values differ", file: file, line: line)
    }

    func testSingleDrawsFromSharedReference() throws {
        let f = try FixtureFile("torch_randn.safetensors")
        let keys = f.keys.filter { $0.hasPrefix("cpu_") }
        XCTAssertEqual(keys.count, 8)
        for key in keys {
            let parts = key.split(separator: "_")
            let seed = try XCTUnwrap(UInt64(parts[1]))
            let want = try f.floats(key)
            assertBitExact(TorchCPUGenerator(seed: seed).normalValues(count: want.count), want, key)
        }
    }

    func testSingleDrawsAllPathsAndSeeds() throws {
        // Covers < 16 elements (double Box-Muller with the cached pair value), exactly 16,
        // 17 (tail recomputation) and seeds above 32 bits (torch truncates them).
        let f = try FixtureFile("cpu_randn.safetensors")
        let keys = f.keys.filter { $0.hasPrefix("single_") }
        XCTAssertEqual(keys.count, 48)
        for key in keys {
            let seed = try XCTUnwrap(UInt64(key.split(separator: "_")[1]))
            let want = try f.floats(key)
            XCTAssertEqual(want.count, shapeFromKey(key).reduce(1, *))
            assertBitExact(TorchCPUGenerator(seed: seed).normalValues(count: want.count), want, key)
        }
    }

    func testConsecutiveDrawsAdvanceLikeTorch() throws {
        let f = try FixtureFile("cpu_randn.safetensors")
        for seed in [UInt64(0), 1234] {
            let keys = f.keys.filter { $0.hasPrefix("seq_\(seed)_") }
                .sorted { Int($0.split(separator: "_")[2])! < Int($1.split(separator: "_")[2])! }
            XCTAssertEqual(keys.count, 9)
            let generator = TorchCPUGenerator(seed: seed)
            for key in keys {
                let want = try f.floats(key)
                assertBitExact(generator.normalValues(count: want.count), want, key)
            }
        }
    }
}
