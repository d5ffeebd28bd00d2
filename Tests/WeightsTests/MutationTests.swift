import Foundation
import Tensor
@testable import Weights
import XCTest

/// Seeded random byte mutations of valid files: every load must either succeed (and then every
/// tensor must be readable or refused with a WeightsError) or fail with a WeightsError — never
/// crash, hang or trap. The property is exact; the seed makes failures reproducible.
final class MutationTests: XCTestCase {
    /// SplitMix64: tiny deterministic generator for reproducible mutations.
    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    private func mutate(_ data: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var d = data
        switch rng.below(4) {
        case 0: // flip 1-4 random bytes
            for _ in 0...rng.below(4) where !d.isEmpty { d[rng.below(d.count)] = UInt8(truncatingIfNeeded: rng.next()) }
        case 1: // truncate
            d = Array(d.prefix(rng.below(d.count + 1)))
        case 2: // overwrite a 4/8-byte field with an extreme value
            if d.count > 8 {
                let at = rng.below(d.count - 8)
                let v: [UInt8] = [[0xFF, 0xFF, 0xFF, 0xFF], [0, 0, 0, 0x80], [0xFF, 0xFF, 0xFF, 0x7F]][rng.below(3)]
                for (i, b) in v.enumerated() { d[at + i] = b }
            }
        default: // duplicate or delete a small range
            if d.count > 16 {
                let at = rng.below(d.count - 8), n = 1 + rng.below(8)
                if rng.below(2) == 0 { d.insert(contentsOf: d[at..<(at + n)], at: at) } else { d.removeSubrange(at..<(at + n)) }
            }
        }
        return d
    }

    private func fuzz(_ fixture: String, iterations: Int, seed: UInt64, load: (String) throws -> any TensorSource) throws {
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: fixture)))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mut-\(getpid())-\(seed)").path
        defer { unlink(path) }
        var rng = SplitMix64(state: seed)
        var loaded = 0
        for i in 0..<iterations {
            let bytes = mutate(original, &rng)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let s = try load(path)
                loaded += 1
                for name in s.names {
                    do { _ = try s.tensor(name) } catch is WeightsError {}
                }
            } catch is WeightsError {
            } catch {
                XCTFail("iteration \(i) (seed \(seed)): non-WeightsError \(error)")
            }
        }
        // Sanity on the harness itself: some mutations (e.g. in tensor data) leave files loadable.
        XCTAssertGreaterThan(loaded, 0)
    }

    func testMutatedSafetensorsNeverCrash() throws {
        try fuzz(Fixtures.path("basic.safetensors"), iterations: 400, seed: 1) { try SafeTensorsFile(path: $0) }
    }

    func testMutatedCheckpointsNeverCrash() throws {
        try fuzz(Fixtures.path("state.ckpt"), iterations: 400, seed: 2) { try TorchCheckpoint(path: $0) }
        try fuzz(Fixtures.path("state_zip64.ckpt"), iterations: 200, seed: 3) { try TorchCheckpoint(path: $0) }
    }

    /// The zip CRC stops most mutations before the pickle, so mutate data.pkl itself in memory.
    func testMutatedPicklesNeverCrash() throws {
        let path = Fixtures.path("state.ckpt")
        let file = try MappedFile(path: path)
        let zip = try ZipArchive(bytes: file.bytes, path: path)
        let name = try XCTUnwrap(zip.entries.keys.first { $0.hasSuffix("/data.pkl") })
        let original = Array(try zip.data(name, in: file.bytes))
        var rng = SplitMix64(state: 5)
        var decoded = 0
        for i in 0..<3000 {
            let bytes = mutate(original, &rng)
            do {
                try bytes.withUnsafeBytes { raw in
                    var u = RestrictedUnpickler(data: raw, path: path)
                    _ = try u.run { try TorchCheckpoint.extract($0, path: path) }
                }
                decoded += 1
            } catch is WeightsError {
            } catch {
                XCTFail("iteration \(i): non-WeightsError \(error)")
            }
        }
        XCTAssertGreaterThan(decoded, 0)
    }

    func testMutatedNCNNParamNeverCrashes() throws {
        let folder = NCNNModelTests.folder
        let bin = folder.appendingPathComponent("realesr-animevideov3-x4.bin").path
        guard FileManager.default.fileExists(atPath: bin) else { throw XCTSkip("run ./scripts/setup.sh") }
        try fuzz(folder.appendingPathComponent("realesr-animevideov3-x4.param").path, iterations: 300, seed: 4) {
            try NCNNModel(paramPath: $0, binPath: bin)
        }
    }
}
