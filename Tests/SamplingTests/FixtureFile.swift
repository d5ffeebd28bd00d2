import Foundation
import XCTest

/// Minimal reader for the small safetensors fixtures (F32 / F64 / I64 only), so these tests
/// depend on nothing but Sampling and Tensor.
struct FixtureFile {
    struct Entry { let dtype: String; let shape: [Int]; let start: Int; let end: Int }
    let entries: [String: Entry]
    let metadata: [String: String]
    private let payload: Data

    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/sampling")
    }

    init(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        guard data.count >= 8 else { throw FixtureError.malformed(name, "short file") }
        let headerLength = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self).littleEndian) }
        guard 8 + headerLength <= data.count,
              let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any]
        else { throw FixtureError.malformed(name, "bad header") }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" { metadata = value as? [String: String] ?? [:]; continue }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw FixtureError.malformed(name, "entry \(key)") }
            entries[key] = Entry(dtype: dtype, shape: shape, start: offsets[0], end: offsets[1])
        }
        self.entries = entries
        self.metadata = metadata
        payload = data.subdata(in: (8 + headerLength)..<data.count)
    }

    var keys: [String] { entries.keys.sorted() }

    func floats(_ key: String) throws -> [Float] {
        guard let e = entries[key] else { throw FixtureError.missing(key) }
        let bytes = payload.subdata(in: e.start..<e.end)
        switch e.dtype {
        case "F32": return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        case "F64": return bytes.withUnsafeBytes { $0.bindMemory(to: Double.self).map { Float($0) } }
        default: throw FixtureError.malformed(key, "dtype \(e.dtype)")
        }
    }

    func doubles(_ key: String) throws -> [Double] {
        guard let e = entries[key] else { throw FixtureError.missing(key) }
        let bytes = payload.subdata(in: e.start..<e.end)
        switch e.dtype {
        case "F32": return bytes.withUnsafeBytes { $0.bindMemory(to: Float.self).map { Double($0) } }
        case "F64": return bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        case "I64": return bytes.withUnsafeBytes { $0.bindMemory(to: Int64.self).map { Double($0) } }
        default: throw FixtureError.malformed(key, "dtype \(e.dtype)")
        }
    }

    func shape(_ key: String) throws -> [Int] {
        guard let e = entries[key] else { throw FixtureError.missing(key) }
        return e.shape
    }
}

enum FixtureError: Error { case missing(String), malformed(String, String) }
