import Models
import Tensor

/// Turns one tile of input samples into one tile of output samples with an upscaler network. A pure function
/// of the tile's pixels (batch of one, fixed shape), so a tile gives the same result whatever order the job
/// runs its tiles in, or if it is redone alone.
///
/// Colour: grey is repeated into RGB, samples are divided by `maxValue` (255 or 65535) into [0, 1], the network
/// runs, its output is clamped to [0, 1] (as Real-ESRGAN's inference does) and scaled back. Alpha never goes
/// through the network: it is upscaled on its own by bilinear interpolation (half-pixel centres, edges
/// clamped — `F.interpolate(mode="bilinear", align_corners=False)`), which is what Real-ESRGAN does for
/// alpha when its alpha upsampler is not the network; overlapping tiles blend away the clamped tile borders.
public struct TileUpscaling {
    public let network: any UpscalerNetwork
    /// Bands of the input samples: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.
    public let inputBands: Int
    public let maxValue: Float

    public init(network: any UpscalerNetwork, inputBands: Int, maxValue: Float) {
        self.network = network
        self.inputBands = inputBands
        self.maxValue = maxValue
    }

    public var hasAlpha: Bool { inputBands == 2 || inputBands == 4 }
    /// RGB, plus alpha when the input has it.
    public var outputBands: Int { hasAlpha ? 4 : 3 }

    /// `pixels`: interleaved `width`×`height`×`inputBands` samples. Returns planar (CHW) output samples of
    /// `outputBands` planes of (width·scale)×(height·scale), in the input's sample scale.
    public func upscale(pixels: [Float], width: Int, height: Int) -> [Float] {
        let scale = network.scale
        let multiple = network.inputMultiple
        // Models that pixel-unshuffle need sides that divide; pad by repeating the edge, crop afterwards.
        let (pw, ph) = ((width + multiple - 1) / multiple * multiple, (height + multiple - 1) / multiple * multiple)
        let colourBands = hasAlpha ? inputBands - 1 : inputBands
        var rgb = [Float](repeating: 0, count: 3 * pw * ph)
        let inverse = 1 / maxValue
        for y in 0..<ph {
            let sy = min(y, height - 1)
            for x in 0..<pw {
                let sx = min(x, width - 1)
                let base = (sy * width + sx) * inputBands
                for c in 0..<3 {
                    rgb[c * pw * ph + y * pw + x] = pixels[base + (colourBands == 1 ? 0 : c)] * inverse
                }
            }
        }
        let output = network.forward(Tensor(shape: [1, 3, ph, pw], values: rgb))
        let (ow, oh) = (width * scale, height * scale)
        let (fullW, fullH) = (pw * scale, ph * scale)
        var planes = [Float](repeating: 0, count: outputBands * ow * oh)
        output.withUnsafeBufferPointer { out in
            for c in 0..<3 {
                for y in 0..<oh {
                    let source = c * fullW * fullH + y * fullW
                    let target = c * ow * oh + y * ow
                    for x in 0..<ow { planes[target + x] = min(max(out[source + x], 0), 1) * maxValue }
                }
            }
        }
        if hasAlpha {
            let alpha = TileUpscaling.bilinear(pixels, band: inputBands - 1, bands: inputBands,
                                               width: width, height: height, scale: scale)
            for i in 0..<(ow * oh) { planes[3 * ow * oh + i] = alpha[i] }
        }
        return planes
    }

    /// Bilinear ×scale of one band (align_corners=False: source = (dst + 0.5) / scale - 0.5, clamped).
    static func bilinear(_ pixels: [Float], band: Int, bands: Int, width: Int, height: Int, scale: Int) -> [Float] {
        let (ow, oh) = (width * scale, height * scale)
        func axis(_ d: Int, _ length: Int) -> (Int, Int, Float) {
            let s = max(0, (Float(d) + 0.5) / Float(scale) - 0.5)
            let i0 = min(Int(s), length - 1)
            let i1 = min(i0 + 1, length - 1)
            return (i0, i1, s - Float(i0))
        }
        let xs = (0..<ow).map { axis($0, width) }
        var out = [Float](repeating: 0, count: ow * oh)
        for y in 0..<oh {
            let (y0, y1, fy) = axis(y, height)
            for x in 0..<ow {
                let (x0, x1, fx) = xs[x]
                let a = pixels[(y0 * width + x0) * bands + band], b = pixels[(y0 * width + x1) * bands + band]
                let c = pixels[(y1 * width + x0) * bands + band], d = pixels[(y1 * width + x1) * bands + band]
                let top = a + (b - a) * fx, bottom = c + (d - c) * fx
                out[y * ow + x] = top + (bottom - top) * fy
            }
        }
        return out
    }
}
