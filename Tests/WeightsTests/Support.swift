import Foundation
import Tensor
@testable import Weights
import XCTest

/// Fixture folders, found relative to this file so the package needs no resources.
enum Fixtures {
    static let weights = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/weights")
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ name: String) -> String { weights.appendingPathComponent(name).path }

    static func files(in folder: String, ext: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: weights.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == ext }.sorted { $0.path < $1.path }
    }
}

/// The enum case name of an error, e.g. "sizeMismatch", for table-driven corrupt-file tests.
func caseName(_ error: WeightsError) -> String {
    Mirror(reflecting: error).children.first?.label ?? "\(error)"
}

func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

/// Asserts two tensors have the same shape and identical float bit patterns (NaN payloads included).
func assertBitIdentical(_ a: Tensor, _ b: Tensor, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "shape of \(name)", file: file, line: line)
    let (x, y) = (bits(a), bits(b))
    XCTAssertEqual(x.count, y.count, "count of \(name)", file: file, line: line)
    if let i = x.indices.first(where: { $0 < y.count && x[$0] != y[$0] }) {
        XCTFail("\(name)[\(i)]: 0x\(String(x[i], radix: 16)) != 0x\(String(y[i], radix: 16))", file: file, line: line)
    }
}

/// Runs `body`, asserting it throws a WeightsError of case `expected` whose message names `path`.
func assertWeightsError(_ expected: String, path: String, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("\(path): expected \(expected), loaded fine", file: file, line: line)
    } catch let e as WeightsError {
        XCTAssertEqual(caseName(e), expected, "\(path): \(e)", file: file, line: line)
        XCTAssertTrue(e.description.contains(path), "message should name the file: \(e)", file: file, line: line)
    } catch {
        XCTFail("\(path): unexpected error type \(error)", file: file, line: line)
    }
}
