import Foundation
import Tensor

/// Reads Tests/Fixtures/tensor/cases.{json,bin}, written by scripts/fixtures/make_tensor_fixtures.py.
struct TorchFixtures {
    struct Entry: Decodable {
        let shape: [Int]
        let offset: Int
    }

    struct Case: Decodable {
        let name: String
        let op: String
        let params: [String: Parameter]
        let tensors: [String: Entry]
    }

    enum Parameter: Decodable {
        case number(Double)
        case bool(Bool)
        case numbers([Double])

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else {
                self = .numbers(try container.decode([Double].self))
            }
        }
    }

    private struct Index: Decodable {
        let format: String
        let cases: [Case]
    }

    enum LoadError: Error {
        case badFormat(String)
        case missingCase(String)
        case missingTensor(caseName: String, role: String)
        case missingParameter(caseName: String, name: String)
        case outOfBounds(caseName: String, role: String)
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tensor")

    let cases: [Case]
    private let floats: [Float]

    init() throws {
        let index = try JSONDecoder().decode(
            Index.self, from: Data(contentsOf: Self.directory.appendingPathComponent("cases.json")))
        guard index.format == "float32-le" else { throw LoadError.badFormat(index.format) }
        let bytes = try Data(contentsOf: Self.directory.appendingPathComponent("cases.bin"))
        var floats = [Float](repeating: 0, count: bytes.count / 4)
        floats.withUnsafeMutableBytes { target in
            bytes.withUnsafeBytes { source in target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<target.count])) }
        }
        // The file is little-endian; so is every machine we run on, but say so.
        if UInt32(littleEndian: 1) != 1 { floats = floats.map { Float(bitPattern: $0.bitPattern.byteSwapped) } }
        self.cases = index.cases
        self.floats = floats
    }

    func cases(op: String) -> [Case] { cases.filter { $0.op == op } }

    func tensor(_ role: String, of fixture: Case) throws -> Tensor {
        guard let entry = fixture.tensors[role] else {
            throw LoadError.missingTensor(caseName: fixture.name, role: role)
        }
        let count = entry.shape.reduce(1, *)
        guard entry.offset >= 0, entry.offset + count <= floats.count else {
            throw LoadError.outOfBounds(caseName: fixture.name, role: role)
        }
        return Tensor(shape: entry.shape, values: Array(floats[entry.offset..<(entry.offset + count)]))
    }

    func optionalTensor(_ role: String, of fixture: Case) throws -> Tensor? {
        fixture.tensors[role] == nil ? nil : try tensor(role, of: fixture)
    }

    func number(_ name: String, of fixture: Case) throws -> Double {
        guard case .number(let value) = fixture.params[name] else {
            throw LoadError.missingParameter(caseName: fixture.name, name: name)
        }
        return value
    }

    func flag(_ name: String, of fixture: Case) throws -> Bool {
        guard case .bool(let value) = fixture.params[name] else {
            throw LoadError.missingParameter(caseName: fixture.name, name: name)
        }
        return value
    }

    func numbers(_ name: String, of fixture: Case) throws -> [Int] {
        guard case .numbers(let values) = fixture.params[name] else {
            throw LoadError.missingParameter(caseName: fixture.name, name: name)
        }
        return values.map { Int($0) }
    }
}

/// max |actual - expected| / max |expected|: the error relative to the tensor's scale, so values
/// near zero (e.g. silu(-80)) are judged against the magnitude of the whole output.
func relativeError(_ actual: Tensor, _ expected: Tensor) -> Float {
    precondition(actual.count == expected.count)
    let a = actual.scalars, e = expected.scalars
    var worst: Float = 0
    var scale: Float = 0
    for i in 0..<a.count {
        if a[i].isNaN != e[i].isNaN { return .infinity }
        if a[i].isNaN { continue }
        worst = max(worst, abs(a[i] - e[i]))
        scale = max(scale, abs(e[i]))
    }
    return scale == 0 ? worst : worst / scale
}
