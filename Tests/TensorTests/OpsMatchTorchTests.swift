import XCTest
@testable import Tensor

/// Every op against PyTorch references (scripts/fixtures/make_tensor_fixtures.py), with 1 and 2
/// threads and with chunk/threshold settings small enough to force the chunked and split paths.
final class OpsMatchTorchTests: XCTestCase {
    /// float32 relative error bound, max|ours - torch| / max|torch| (issue 3: <= 1e-4).
    let tolerance: Float = 1e-4

    static let fixtures: Result<TorchFixtures, Error> = Result { try TorchFixtures() }

    var fixtures: TorchFixtures {
        get throws { try Self.fixtures.get() }
    }

    override func tearDown() {
        ComputeConfig.setThreads(ComputeConfig.defaultThreads)
        Gemm.parallelThreshold = 1 << 21
        Conv2dKernels.columnBudget = 2 << 20
        AttentionKernel.scoreBudget = 1 << 20
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumTiles2x2 = 96
        WinogradConvolution.minimumChannels = 16
        WinogradConvolution.chunkBudget = 12 << 20
        WinogradConvolution.forcedVariant = nil
    }

    /// Runs `check` with one thread, two threads, two threads with tiny chunk budgets, and with every
    /// 3x3 stride-1 convolution forced through Winograd (in chunks of one tile row).
    func forEachConfiguration(_ check: (String) throws -> Void) rethrows {
        ComputeConfig.setThreads(1)
        try check("1 thread")
        ComputeConfig.setThreads(2)
        try check("2 threads")
        Gemm.parallelThreshold = 1
        Conv2dKernels.columnBudget = 300
        AttentionKernel.scoreBudget = 100
        try check("2 threads, tiny chunks")
        Gemm.parallelThreshold = 1 << 21
        Conv2dKernels.columnBudget = 2 << 20
        AttentionKernel.scoreBudget = 1 << 20
        WinogradConvolution.minimumTiles4x4 = 1
        WinogradConvolution.minimumTiles2x2 = 1
        WinogradConvolution.minimumChannels = 1
        WinogradConvolution.chunkBudget = 1
        try check("2 threads, Winograd F(4x4) in chunks of one tile row")
        WinogradConvolution.forcedVariant = .f2x2
        try check("2 threads, Winograd F(2x2) in chunks of one tile row")
        WinogradConvolution.forcedVariant = nil
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumTiles2x2 = 96
        WinogradConvolution.minimumChannels = 16
        WinogradConvolution.chunkBudget = 12 << 20
    }

    func assertMatches(_ actual: Tensor, _ expected: Tensor, _ label: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, label, file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let error = relativeError(actual, expected)
        XCTAssertLessThanOrEqual(error, tolerance, "\(label): relative error \(error)", file: file, line: line)
    }

    func run(op: String, expectCases: Int, _ compute: (TorchFixtures, TorchFixtures.Case) throws -> Tensor) throws {
        let fixtures = try fixtures
        let cases = fixtures.cases(op: op)
        XCTAssertEqual(cases.count, expectCases, "fixture cases for \(op)")
        try forEachConfiguration { configuration in
            for fixture in cases {
                let expected = try fixtures.tensor("out", of: fixture)
                let actual = try compute(fixtures, fixture)
                assertMatches(actual, expected, "\(fixture.name) [\(configuration)]")
            }
        }
    }

    func testLinear() throws {
        try run(op: "linear", expectCases: 3) { f, c in
            linear(try f.tensor("x", of: c), weight: try f.tensor("weight", of: c), bias: try f.optionalTensor("bias", of: c))
        }
    }

    func testConv2d() throws {
        try run(op: "conv2d", expectCases: 13) { f, c in
            conv2d(try f.tensor("x", of: c), weight: try f.tensor("weight", of: c),
                   bias: try f.optionalTensor("bias", of: c),
                   stride: Int(try f.number("stride", of: c)), padding: Int(try f.number("padding", of: c)))
        }
    }

    func testGroupNorm() throws {
        try run(op: "groupNorm", expectCases: 4) { f, c in
            groupNorm(try f.tensor("x", of: c), groups: Int(try f.number("groups", of: c)),
                      weight: try f.optionalTensor("weight", of: c), bias: try f.optionalTensor("bias", of: c),
                      eps: Float(try f.number("eps", of: c)))
        }
    }

    func testGroupNormSiLU() throws {
        try run(op: "groupNormSiLU", expectCases: 2) { f, c in
            groupNormSiLU(try f.tensor("x", of: c), groups: Int(try f.number("groups", of: c)),
                          weight: try f.optionalTensor("weight", of: c), bias: try f.optionalTensor("bias", of: c),
                          eps: Float(try f.number("eps", of: c)))
        }
    }

    func testLayerNorm() throws {
        try run(op: "layerNorm", expectCases: 3) { f, c in
            layerNorm(try f.tensor("x", of: c), weight: try f.optionalTensor("weight", of: c),
                      bias: try f.optionalTensor("bias", of: c), eps: Float(try f.number("eps", of: c)))
        }
    }

    func testActivations() throws {
        try run(op: "silu", expectCases: 1) { f, c in silu(try f.tensor("x", of: c)) }
        try run(op: "sigmoid", expectCases: 1) { f, c in sigmoid(try f.tensor("x", of: c)) }
        try run(op: "gelu", expectCases: 1) { f, c in gelu(try f.tensor("x", of: c)) }
        try run(op: "geluTanh", expectCases: 1) { f, c in geluTanh(try f.tensor("x", of: c)) }
        try run(op: "quickGelu", expectCases: 1) { f, c in quickGelu(try f.tensor("x", of: c)) }
        try run(op: "geglu", expectCases: 1) { f, c in geglu(try f.tensor("x", of: c)) }
    }

    func testSoftmax() throws {
        try run(op: "softmax", expectCases: 3) { f, c in softmax(try f.tensor("x", of: c)) }
    }

    func testAttention() throws {
        try run(op: "attention", expectCases: 5) { f, c in
            attention(query: try f.tensor("query", of: c), key: try f.tensor("key", of: c),
                      value: try f.tensor("value", of: c), heads: Int(try f.number("heads", of: c)),
                      mask: try f.optionalTensor("mask", of: c))
        }
    }

    func testUpsample() throws {
        try run(op: "upsampleNearest2x", expectCases: 1) { f, c in upsampleNearest2x(try f.tensor("x", of: c)) }
    }

    func testConcat() throws {
        try run(op: "concat", expectCases: 3) { f, c in
            let inputs = try (0..<c.tensors.count - 1).map { try f.tensor("x\($0)", of: c) }
            return concat(inputs, axis: Int(try f.number("axis", of: c)))
        }
    }

    func testSplit() throws {
        let fixtures = try fixtures
        let cases = fixtures.cases(op: "split")
        XCTAssertEqual(cases.count, 2)
        try forEachConfiguration { configuration in
            for c in cases {
                let sizes = try fixtures.numbers("sizes", of: c)
                let pieces = split(try fixtures.tensor("x", of: c), axis: Int(try fixtures.number("axis", of: c)), sizes: sizes)
                XCTAssertEqual(pieces.count, sizes.count)
                for (i, piece) in pieces.enumerated() {
                    assertMatches(piece, try fixtures.tensor("out\(i)", of: c), "\(c.name) piece \(i) [\(configuration)]")
                }
            }
        }
    }

    func testPermute() throws {
        try run(op: "permute", expectCases: 2) { f, c in
            try f.tensor("x", of: c).permuted(try f.numbers("axes", of: c))
        }
    }

    func testTimestepEmbedding() throws {
        try run(op: "timestepEmbedding", expectCases: 4) { f, c in
            timestepEmbedding(timesteps: try f.tensor("timesteps", of: c).scalars,
                              dim: Int(try f.number("dim", of: c)),
                              flipSinToCos: try f.flag("flipSinToCos", of: c),
                              downscaleFreqShift: Float(try f.number("downscaleFreqShift", of: c)),
                              maxPeriod: Float(try f.number("maxPeriod", of: c)))
        }
    }
}
