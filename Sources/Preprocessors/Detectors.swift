/// The detectors sd-webui-controlnet runs on the padded working image (scripts/preprocessor/legacy/processor.py
/// and model_free_preprocessors.py), with numpy's dtype rules kept where they change results.
enum Detectors {
    /// scribble_xdog: the difference of Gaussians σ 0.5 and 5 (float32), its minimum over the channels,
    /// dog = uint8(clip(255 − min)), and white where 2 × (255 − dog) > threshold — computed in uint8 as numpy
    /// does, so the product wraps modulo 256 (a very strong edge, 255 − dog ≥ 128, can come out dark).
    static func scribbleXDoG(_ image: ByteImage, threshold: Int) -> ByteImage {
        let x = image.pixels.map { Float($0) }
        let fine = GaussianBlur(sigma: 0.5).apply(x, width: image.width, height: image.height, channels: 3)
        let coarse = GaussianBlur(sigma: 5).apply(x, width: image.width, height: image.height, channels: 3)
        var out = ByteImage(zeros: image.width, height: image.height, channels: 3)
        for i in 0 ..< image.width * image.height {
            var lowest = Float.infinity
            for c in 0 ..< 3 { lowest = min(lowest, coarse[3 * i + c] - fine[3 * i + c]) }
            let dog = UInt8(min(max(255 - lowest, 0), 255))
            let strength = 2 &* (255 - dog)
            if Int(strength) > threshold {
                out.pixels[3 * i] = 255
                out.pixels[3 * i + 1] = 255
                out.pixels[3 * i + 2] = 255
            }
        }
        return out
    }

    /// threshold: white where the darkest channel is above the threshold.
    static func threshold(_ image: ByteImage, threshold: Int) -> ByteImage {
        var out = ByteImage(zeros: image.width, height: image.height, channels: 3)
        for i in 0 ..< image.width * image.height {
            let darkest = min(image.pixels[3 * i], image.pixels[3 * i + 1], image.pixels[3 * i + 2])
            if Int(darkest) > threshold {
                out.pixels[3 * i] = 255
                out.pixels[3 * i + 1] = 255
                out.pixels[3 * i + 2] = 255
            }
        }
        return out
    }

    /// lineart_standard: intensity = clip(min over channels of (Gaussian σ 6 − x), 0, 255) in float32, divided
    /// by max(16, median of the intensities above 8) (numpy's median: the mean of the two middle values in
    /// float32 for an even count; none above 8 leaves 16), times 127, clipped and truncated to uint8.
    static func lineartStandard(_ image: ByteImage) -> ByteImage {
        let x = image.pixels.map { Float($0) }
        let g = GaussianBlur(sigma: 6).apply(x, width: image.width, height: image.height, channels: 3)
        let count = image.width * image.height
        var intensity = [Float](repeating: 0, count: count)
        for i in 0 ..< count {
            var lowest = Float.infinity
            for c in 0 ..< 3 { lowest = min(lowest, g[3 * i + c] - x[3 * i + c]) }
            intensity[i] = min(max(lowest, 0), 255)
        }
        let bright = intensity.filter { $0 > 8 }.sorted()
        var divisor: Float = 16
        if !bright.isEmpty {
            let mid = bright.count / 2
            let median = bright.count % 2 == 1 ? bright[mid] : (bright[mid - 1] + bright[mid]) / 2
            if median > 16 { divisor = median }  // Python's max(16, median) keeps 16 unless median is larger
        }
        var out = ByteImage(zeros: image.width, height: image.height, channels: 1)
        for i in 0 ..< count {
            let scaled = intensity[i] / divisor * 127
            out.pixels[i] = UInt8(min(max(scaled, 0), 255))
        }
        return out
    }

    /// invert: 255 − every sample.
    static func invert(_ image: ByteImage) -> ByteImage {
        var out = image
        for i in out.pixels.indices { out.pixels[i] = 255 - out.pixels[i] }
        return out
    }

    /// color (annotator/color): the short side to `resolution` with INTER_AREA (the long side
    /// round(long / short × resolution), Python's rounding), INTER_CUBIC down to (w // 64, h // 64) cells, then
    /// INTER_NEAREST back up: a grid of flat colour blocks at the working size.
    static func color(_ image: ByteImage, resolution: Int) throws(PreprocessorError) -> ByteImage {
        let w = image.width, h = image.height
        let (nw, nh): (Int, Int)
        if h < w {
            (nw, nh) = (Int((Double(w) / Double(h) * Double(resolution)).rounded(.toNearestOrEven)), resolution)
        } else {
            (nw, nh) = (resolution, Int((Double(h) / Double(w) * Double(resolution)).rounded(.toNearestOrEven)))
        }
        let scaled = try image.resized(width: nw, height: nh, .area)
        let cells = try scaled.resized(width: nw / 64, height: nh / 64, .cubic)
        return try cells.resized(width: nw, height: nh, .nearest)
    }

    /// tile_resample: the image itself below a rate of 1.1, else INTER_AREA down to int(side / rate).
    static func tileResample(_ image: ByteImage, rate: Double) throws(PreprocessorError) -> ByteImage {
        guard rate >= 1.1 else { return image }
        let w = Int(Double(image.width) / rate), h = Int(Double(image.height) / rate)
        guard w > 0, h > 0 else {
            throw .invalidParameter(field: "down_sampling_rate",
                                    reason: "\(rate) would shrink the \(image.width)x\(image.height) image below one pixel")
        }
        return try image.resized(width: w, height: h, .area)
    }
}
