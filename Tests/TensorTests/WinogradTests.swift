import XCTest
@testable import Tensor

/// Winograd F(4x4, 3x3) and F(2x2, 3x3) against a float64 direct convolution, on shapes that are not multiples of the
/// 4x4 tile, single pixels, batches that straddle chunk boundaries, with and without bias.
final class WinogradTests: XCTestCase {
    /// float32 Winograd vs float64, max|ours - exact| / max|exact|. The F(4x4, 3x3) transforms scale
    /// values by up to ~100 before the GEMM and back after it, so their rounding error is a few 1e-6
    /// here (im2col's is ~1e-7); 1e-5 is still ten times inside the model parity tolerance of 1e-4.
    let tolerance = 1e-5

    override func tearDown() {
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumTiles2x2 = 96
        WinogradConvolution.minimumChannels = 16
        WinogradConvolution.chunkBudget = 12 << 20
        WinogradConvolution.forcedVariant = nil
        ComputeConfig.setThreads(ComputeConfig.defaultThreads)
    }

    struct Case {
        let batch, channels, outChannels, height, width: Int
        let bias: Bool
    }

    let cases: [Case] = [
        Case(batch: 1, channels: 1, outChannels: 1, height: 1, width: 1, bias: false),
        Case(batch: 1, channels: 3, outChannels: 5, height: 7, width: 9, bias: true),
        Case(batch: 2, channels: 16, outChannels: 8, height: 12, width: 12, bias: false),
        Case(batch: 3, channels: 2, outChannels: 4, height: 5, width: 4, bias: true),
        Case(batch: 1, channels: 40, outChannels: 24, height: 33, width: 18, bias: true),
        Case(batch: 2, channels: 64, outChannels: 32, height: 16, width: 20, bias: true),
    ]

    func testMatchesDirectConvolutionInFloat64() {
        WinogradConvolution.minimumTiles4x4 = 1
        WinogradConvolution.minimumTiles2x2 = 1
        WinogradConvolution.minimumChannels = 1
        for (variant, budget) in [(WinogradConvolution.Variant.f4x4, 12 << 20), (.f4x4, 1), (.f2x2, 12 << 20), (.f2x2, 1)] {
            // budget 1: one tile row per chunk
            WinogradConvolution.forcedVariant = variant
            WinogradConvolution.chunkBudget = budget
            for threads in [1, 2] {
                ComputeConfig.setThreads(threads)
                for (index, c) in cases.enumerated() {
                    let label = "case \(index) \(c), \(variant), budget \(budget), \(threads) threads"
                    let x = Float64Checks.randomTensor([c.batch, c.channels, c.height, c.width], seed: UInt64(index + 1))
                    let w = Float64Checks.randomTensor([c.outChannels, c.channels, 3, 3], seed: UInt64(index + 100),
                                         scale: 1 / Float(9 * c.channels).squareRoot())
                    let b = c.bias ? Float64Checks.randomTensor([c.outChannels], seed: UInt64(index + 200)) : nil
                    let geometry = ConvGeometry(input: x.shape, weight: w.shape, stride: 1, padding: 1)
                    XCTAssertEqual(WinogradConvolution.variant(for: geometry), variant, label)
                    let actual = conv2d(x, weight: w, bias: b, stride: 1, padding: 1)
                    let exact = directConvolution(x, w, b)
                    XCTAssertEqual(actual.shape, [c.batch, c.outChannels, c.height, c.width], label)
                    let error = Float64Checks.relativeError(actual.scalars, exact)
                    XCTAssertLessThanOrEqual(error, tolerance, label)
                }
            }
        }
    }

    func testOnlyThreeByThreeSamePaddingUnitStride() {
        WinogradConvolution.minimumTiles4x4 = 1
        WinogradConvolution.minimumTiles2x2 = 1
        WinogradConvolution.minimumChannels = 1
        let input = [1, 4, 16, 16]
        XCTAssertFalse(WinogradConvolution.applies(ConvGeometry(input: input, weight: [4, 4, 3, 3], stride: 2, padding: 1)))
        XCTAssertFalse(WinogradConvolution.applies(ConvGeometry(input: input, weight: [4, 4, 3, 3], stride: 1, padding: 0)))
        XCTAssertFalse(WinogradConvolution.applies(ConvGeometry(input: input, weight: [4, 4, 1, 1], stride: 1, padding: 0)))
        XCTAssertTrue(WinogradConvolution.applies(ConvGeometry(input: input, weight: [4, 4, 3, 3], stride: 1, padding: 1)))
        WinogradConvolution.minimumTiles4x4 = 32
        WinogradConvolution.minimumTiles2x2 = 96
        WinogradConvolution.minimumChannels = 1
        func pick(_ input: [Int], _ weight: [Int]) -> WinogradConvolution.Variant? {
            WinogradConvolution.variant(for: ConvGeometry(input: input, weight: weight, stride: 1, padding: 1))
        }
        // Batch 2 at 64x64 or 16x16 (32 4x4 tiles): F(4x4); at 8x8 too few tiles of either size.
        XCTAssertEqual(pick([2, 4, 64, 64], [4, 4, 3, 3]), .f4x4)
        XCTAssertEqual(pick([2, 4, 16, 16], [4, 4, 3, 3]), .f4x4)
        XCTAssertNil(pick([2, 4, 8, 8], [4, 4, 3, 3]))
        // One image at 16x16: 16 4x4 tiles are too few, 64 2x2 tiles too.
        XCTAssertNil(pick([1, 4, 16, 16], [4, 4, 3, 3]))
        // Transformed weights over the cap: 36 x 2560 x 1280 floats is too much for F(4x4), 16 x 2560 x 1280 is not.
        XCTAssertEqual(pick([2, 2560, 16, 16], [1280, 2560, 3, 3]), .f2x2)
        XCTAssertNil(pick([2, 2560, 16, 16], [4096, 4096, 3, 3]))
    }


    private func directConvolution(_ x: Tensor, _ w: Tensor, _ b: Tensor?) -> [Double] {
        let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let o = w.shape[0]
        let xv = x.scalars, wv = w.scalars, bv = b?.scalars
        var out = [Double](repeating: 0, count: n * o * h * wd)
        for image in 0..<n {
            for oc in 0..<o {
                for y in 0..<h {
                    for xx in 0..<wd {
                        var sum = Double(bv?[oc] ?? 0)
                        for ic in 0..<c {
                            for ky in 0..<3 {
                                let iy = y + ky - 1
                                if iy < 0 || iy >= h { continue }
                                for kx in 0..<3 {
                                    let ix = xx + kx - 1
                                    if ix < 0 || ix >= wd { continue }
                                    let xIndex: Int = ((image * c + ic) * h + iy) * wd + ix
                                    let wIndex: Int = ((oc * c + ic) * 3 + ky) * 3 + kx
                                    sum += Double(xv[xIndex]) * Double(wv[wIndex])
                                }
                            }
                        }
                        out[((image * o + oc) * h + y) * wd + xx] = sum
                    }
                }
            }
        }
        return out
    }
}
