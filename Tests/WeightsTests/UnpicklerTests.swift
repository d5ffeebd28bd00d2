import Foundation
@testable import Weights
import XCTest

/// Hand-assembled pickles exercising the interpreter's refusals and limits directly.
final class UnpicklerTests: XCTestCase {
    private func run(_ bytes: [UInt8], limits: RestrictedUnpickler.Limits = .init()) throws -> String {
        try bytes.withUnsafeBytes { raw in
            var u = RestrictedUnpickler(data: raw, path: "test.pkl", limits: limits)
            return try u.run { v in v.typeName }
        }
    }

    private func expect(_ bytes: [UInt8], _ expected: String, limits: RestrictedUnpickler.Limits = .init(),
                        file: StaticString = #filePath, line: UInt = #line) {
        do {
            let r = try run(bytes, limits: limits)
            XCTFail("decoded to \(r), expected \(expected)", file: file, line: line)
        } catch let e as WeightsError {
            XCTAssertEqual(caseName(e), expected, "\(e)", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    private let proto: [UInt8] = [0x80, 0x02]

    func testPlainDictDecodes() throws {
        // {"a": [1, 2.5, None, True]} with memo use.
        var p = proto + [0x7D, 0x71, 0x00, 0x8C, 0x01, 0x61, 0x5D, 0x71, 0x01, 0x28, 0x4B, 0x01]
        p += [0x47] + withUnsafeBytes(of: (2.5).bitPattern.bigEndian) { Array($0) }
        p += [0x4E, 0x88, 0x65, 0x73, 0x2E]
        XCTAssertEqual(try run(p), "dict")
    }

    func testForbiddenGlobalsAreNamed() {
        for (module, name) in [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("torch", "load"), ("numpy", "load")] {
            let bytes = proto + [0x63] + Array("\(module)\n\(name)\n".utf8) + [0x2E]
            XCTAssertThrowsError(try run(bytes)) { e in
                XCTAssertEqual(e as? WeightsError, .forbiddenGlobal(path: "test.pkl", offset: 2, name: "\(module).\(name)"))
            }
        }
    }

    /// Lightning keys `callbacks` by the ModelCheckpoint class: allowed as a value, never callable.
    func testLightningCallbackClassIsInert() throws {
        let global = [0x63] + Array("pytorch_lightning.callbacks.model_checkpoint\nModelCheckpoint\n".utf8)
        XCTAssertEqual(try run(proto + [0x7D] + global + [0x7D, 0x73, 0x2E]), "dict")
        expect(proto + global + [0x29, 0x52, 0x2E], "invalidPickle")
    }

    func testReduceOnNonGlobalIsRefused() {
        // A dict "called" with a tuple.
        expect(proto + [0x7D, 0x29, 0x52, 0x2E], "invalidPickle")
    }

    func testTruncationAndHugeLengthsAreErrorsNotAllocations() {
        expect(proto + [0x58, 0xFF, 0xFF, 0xFF, 0x7F], "invalidPickle")      // BINUNICODE of 2 GB
        expect(proto + [0x8E] + [UInt8](repeating: 0xFF, count: 8), "invalidPickle")  // BINBYTES8 of 2^64-1
        expect(proto + [0x4B], "invalidPickle")
        expect(proto + [0x4E], "invalidPickle")                                // no STOP
        expect(proto + [0x2E], "invalidPickle")                                // STOP on an empty stack
        expect(proto + [0x30, 0x2E], "invalidPickle")                          // POP on an empty stack
        expect(proto + [0x28, 0x4E, 0x2E], "invalidPickle")                    // STOP with a dangling MARK
    }

    func testLimits() {
        var l = RestrictedUnpickler.Limits()
        l.maxMemo = 3
        // Memoise 4 distinct slots.
        expect(proto + [0x4E, 0x71, 0, 0x71, 1, 0x71, 2, 0x71, 3, 0x2E], "pickleLimitExceeded", limits: l)
        l = .init()
        l.maxTupleDepth = 10
        expect(proto + [0x29] + [UInt8](repeating: 0x85, count: 11) + [0x2E], "pickleLimitExceeded", limits: l)
        l = .init()
        l.maxMarks = 5
        expect(proto + [UInt8](repeating: 0x28, count: 6), "pickleLimitExceeded", limits: l)
        l = .init()
        l.maxStack = 5
        expect(proto + [UInt8](repeating: 0x4E, count: 6), "pickleLimitExceeded", limits: l)
    }

    func testSelfReferencingListDoesNotHang() throws {
        // l = []; l.append(l)
        XCTAssertEqual(try run(proto + [0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x2E]), "list")
    }

    func testUnsupportedOpcode() {
        expect(proto + [0x69], "unsupportedOpcode")   // INST
        expect(proto + [0x8F, 0x2E], "unsupportedOpcode") // EMPTY_SET
    }

    func testNumpyScalarDecoding() {
        XCTAssertEqual(RestrictedUnpickler.decodeNumpyScalar(NumpyDType(code: "i8"), [0xD2, 0x04, 0, 0, 0, 0, 0, 0]), 1234)
        XCTAssertEqual(RestrictedUnpickler.decodeNumpyScalar(NumpyDType(code: "i4"), [0xFF, 0xFF, 0xFF, 0xFF]), -1)
        XCTAssertEqual(RestrictedUnpickler.decodeNumpyScalar(NumpyDType(code: "f8"), Array(withUnsafeBytes(of: (0.5).bitPattern.littleEndian) { $0 })), 0.5)
        XCTAssertNil(RestrictedUnpickler.decodeNumpyScalar(NumpyDType(code: "i8"), [1, 2]))
        XCTAssertNil(RestrictedUnpickler.decodeNumpyScalar(NumpyDType(code: "U3"), [1, 2, 3]))
    }
}
