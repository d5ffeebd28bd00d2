import XCTest
import Tensor

/// Non-finite inputs behave as in PyTorch: NaN propagates, infinities saturate.
final class NonFiniteTests: XCTestCase {
    func testNaNPropagatesThroughActivations() {
        let x = Tensor(shape: [3], values: [.nan, 1, -1])
        for (name, y) in [("silu", silu(x)), ("sigmoid", sigmoid(x)), ("gelu", gelu(x)),
                          ("geluTanh", geluTanh(x)), ("quickGelu", quickGelu(x))] {
            XCTAssertTrue(y.scalars[0].isNaN, name)
            XCTAssertTrue(y.scalars[1].isFinite && y.scalars[2].isFinite, name)
        }
    }

    func testSoftmaxRowWithNaNIsNaNAndOtherRowsAreNot() {
        let y = softmax(Tensor(shape: [2, 3], values: [0, .nan, 1, 0, 1, 2])).scalars
        XCTAssertTrue(y[0..<3].allSatisfy { $0.isNaN }, "torch.softmax gives a NaN row")
        XCTAssertTrue(y[3..<6].allSatisfy { $0.isFinite })
    }

    func testInfiniteInputsSaturate() {
        let x = Tensor(shape: [2], values: [.infinity, -.infinity])
        // Exact: sigmoid(+inf) = 1, sigmoid(-inf) = 0; softmax with a -inf entry gives it weight 0.
        XCTAssertEqual(sigmoid(x).scalars, [1, 0])
        XCTAssertEqual(softmax(Tensor(shape: [3], values: [0, -.infinity, 0])).scalars, [0.5, 0, 0.5])
    }
}
