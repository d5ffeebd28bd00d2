import Foundation
import Tensor
import XCTest

final class TensorArenaTests: XCTestCase {
    /// Tensors are disjoint, aligned, writable in place, and keep their memory after the arena itself is gone.
    func testTensorsAreDisjointAlignedAndOutliveTheArena() {
        var tensors: [Tensor] = []
        do {
            let arena = TensorArena(chunkBytes: 4 << 20)
            // Odd sizes, one larger than a chunk, several chunks in all.
            for (i, shape) in [[3, 5], [1000, 1000], [7], [2 << 20], [513, 1025], [1]].enumerated() {
                var tensor = arena.tensor(uninitializedShape: shape)
                let before = tensor.storage.address
                tensor.withUnsafeMutableBufferPointer { values in
                    for j in values.indices { values[j] = Float(i * 1_000_003 + j) }
                }
                XCTAssertEqual(tensor.storage.address, before, "written in place, not copied")
                XCTAssertEqual(Int(bitPattern: tensor.storage.address) % TensorStorage.alignment, 0)
                XCTAssertEqual(tensor.shape, shape)
                tensors.append(tensor)
            }
        }
        for (i, tensor) in tensors.enumerated() {
            let values = tensor.scalars
            XCTAssertTrue(values.indices.allSatisfy { values[$0] == Float(i * 1_000_003 + $0) }, "tensor \(i)")
        }
        let ranges = tensors.map { t in
            Int(bitPattern: t.storage.address)..<(Int(bitPattern: t.storage.address) + t.count * 4)
        }.sorted { $0.lowerBound < $1.lowerBound }
        for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertLessThanOrEqual(a.upperBound, b.lowerBound) }
    }

    /// Inside `recycling`, a freed arena's chunks hold the next arena's tensors (no fresh memory); outside it and
    /// after it nothing is kept.
    func testRecyclingReusesFreedChunksAndKeepsNothingAfter() {
        func filled(_ arena: TensorArena, _ value: Float) -> Tensor {
            var tensor = arena.tensor(uninitializedShape: [1 << 20])
            tensor.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
            return tensor
        }
        var first: Tensor? = filled(TensorArena(chunkBytes: 8 << 20), 1)
        let firstAddress = first.map { Int(bitPattern: $0.storage.address) }
        let second = TensorArena.recycling { () -> Tensor in
            first = nil
            XCTAssertEqual(TensorArena.recycledBytes, 8 << 20, "the freed chunk is kept")
            let reused = filled(TensorArena(chunkBytes: 8 << 20), 2)
            XCTAssertEqual(TensorArena.recycledBytes, 0, "and taken")
            XCTAssertEqual(Int(bitPattern: reused.storage.address), firstAddress)
            return reused
        }
        XCTAssertTrue(second.scalars.allSatisfy { $0 == 2 })
        TensorArena.recycling {
            _ = filled(TensorArena(chunkBytes: 4 << 20), 3)
            XCTAssertEqual(TensorArena.recycledBytes, 4 << 20)
        }
        XCTAssertEqual(TensorArena.recycledBytes, 0, "unmapped when the scope ends")
        var outside: Tensor? = filled(TensorArena(chunkBytes: 4 << 20), 4)
        outside = nil
        XCTAssertNil(outside)
        XCTAssertEqual(TensorArena.recycledBytes, 0, "nothing kept outside a scope")
    }
}
