import Foundation
import Tensor
import XCTest

final class HugePageArenaTests: XCTestCase {
    /// Tensors are disjoint, aligned, writable in place, and keep their memory after the arena itself is gone.
    func testTensorsAreDisjointAlignedAndOutliveTheArena() {
        var tensors: [Tensor] = []
        do {
            let arena = HugePageArena(chunkBytes: 4 << 20)
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
            XCTAssertEqual(Int(bitPattern: tensors[0].storage.address) % HugePageArena.hugePageBytes, 0,
                           "a chunk starts on a huge-page boundary")
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

    /// The mapping is advised for huge pages before its first touch (the kernel marks the area `hg`).
    func testChunksAreAdvisedForHugePages() throws {
        guard FileManager.default.fileExists(atPath: "/sys/kernel/mm/transparent_hugepage/enabled"),
              FileManager.default.fileExists(atPath: "/proc/self/smaps") else {
            throw XCTSkip("no transparent huge pages on this system")
        }
        let arena = HugePageArena(chunkBytes: 8 << 20)
        var tensor = arena.tensor(uninitializedShape: [3 << 20])
        tensor.withUnsafeMutableBufferPointer { $0.update(repeating: 1) }
        let address = Int(bitPattern: tensor.storage.address)
        // Read to the end: /proc files report a size of 0.
        let data = try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/smaps")).readDataToEndOfFile()
        let areas = String(decoding: data, as: UTF8.self).split(separator: "\n")
        var flags: Substring?
        var inside = false
        for line in areas {
            let fields = line.split(separator: " ")
            if let range = fields.first, range.contains("-"), fields.count >= 5,
               case let bounds = range.split(separator: "-"), bounds.count == 2,
               let low = Int(bounds[0], radix: 16), let high = Int(bounds[1], radix: 16) {
                inside = low <= address && address < high
            } else if inside, line.hasPrefix("VmFlags:") {
                flags = line
                break
            }
        }
        let found = try XCTUnwrap(flags, "the arena's mapping is listed")
        XCTAssertTrue(found.split(separator: " ").contains("hg"), String(found))
        withExtendedLifetime(arena) {}
    }

    /// Inside `recycling`, a freed arena's chunks hold the next arena's tensors (no fresh memory); outside it and
    /// after it nothing is kept.
    func testRecyclingReusesFreedChunksAndKeepsNothingAfter() {
        func filled(_ arena: HugePageArena, _ value: Float) -> Tensor {
            var tensor = arena.tensor(uninitializedShape: [1 << 20])
            tensor.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
            return tensor
        }
        var first: Tensor? = filled(HugePageArena(chunkBytes: 8 << 20), 1)
        let firstAddress = first.map { Int(bitPattern: $0.storage.address) }
        let second = HugePageArena.recycling { () -> Tensor in
            first = nil
            XCTAssertEqual(HugePageArena.recycledBytes, 8 << 20, "the freed chunk is kept")
            let reused = filled(HugePageArena(chunkBytes: 8 << 20), 2)
            XCTAssertEqual(HugePageArena.recycledBytes, 0, "and taken")
            XCTAssertEqual(Int(bitPattern: reused.storage.address), firstAddress)
            return reused
        }
        XCTAssertTrue(second.scalars.allSatisfy { $0 == 2 })
        HugePageArena.recycling {
            _ = filled(HugePageArena(chunkBytes: 4 << 20), 3)
            XCTAssertEqual(HugePageArena.recycledBytes, 4 << 20)
        }
        XCTAssertEqual(HugePageArena.recycledBytes, 0, "unmapped when the scope ends")
        var outside: Tensor? = filled(HugePageArena(chunkBytes: 4 << 20), 4)
        outside = nil
        XCTAssertNil(outside)
        XCTAssertEqual(HugePageArena.recycledBytes, 0, "nothing kept outside a scope")
    }
}
