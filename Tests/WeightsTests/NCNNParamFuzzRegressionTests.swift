@testable import Weights
import XCTest

/// ncnn .param inputs that trapped the parser (fuzz/targets/ncnn.swift; seed fuzz/corpus/ncnn/int-min-array-id.param).
final class NCNNParamFuzzRegressionTests: XCTestCase {
    private func expectInvalid(_ text: String, detail: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try NCNNParamParser.parse(text, path: "m.param"), file: file, line: line) { error in
            guard case WeightsError.invalidNCNNParam(let path, 3, let d) = error else {
                return XCTFail("\(error)", file: file, line: line)
            }
            XCTAssertEqual(path, "m.param", file: file, line: line)
            XCTAssertTrue(d.contains(detail), d, file: file, line: line)
        }
    }

    /// `-key - 23300` overflowed for key Int.min: the array id is now computed as `-(key + 23300)`.
    func testIntMinArrayIdIsAnErrorNotATrap() {
        expectInvalid("7767517\n1 1\nInput in 0 1 x -9223372036854775808=1,2\n", detail: "outside 0..<32")
        expectInvalid("7767517\n1 1\nInput in 0 1 x -9223372036854775808=1\n", detail: "outside 0..<32")
    }

    func testLargestArrayIdsStillMapIntoRange() throws {
        let layers = try NCNNParamParser.parse("7767517\n1 1\nInput in 0 1 x -23331=2,1,2 -23300=1,0.5\n", path: "m.param")
        XCTAssertEqual(layers[0].params.values[31], .intArray([1, 2]))
        XCTAssertEqual(layers[0].params.values[0], .floatArray([0.5]))
        expectInvalid("7767517\n1 1\nInput in 0 1 x -23332=1,1\n", detail: "id 32 outside")
    }
}
