import Glibc
import VipsShim

extension VipsImage {
    /// Extends the canvas by `extension` for outpainting. The original pixels land unchanged (bit-identical) at
    /// `extension.left, extension.top`; the new area is filled by `fill`; the mask is 1 on the new area and
    /// ramps from 1 to 0 over `seamFeather` px into the original along each extended side (a raised cosine:
    /// m(d) = ½(1 + cos(π(d+1)/(f+1))) at distance d < f from the seam), 0 beyond.
    public func extended(by ext: CanvasExtension, fill: CanvasFill, seamFeather: Int = 0) throws -> ExtendedCanvas {
        guard seamFeather >= 0 else {
            throw ImagingError.invalidArgument("seam feather must be non-negative, got \(seamFeather)")
        }
        let canvasSize = ext.canvasSize(for: size)
        try ImageLimits.default.check(width: canvasSize.width, height: canvasSize.height, bands: bands,
                                      bytesPerSample: max(1, bitDepth / 8))
        let rect = ext.originalRect(for: size)
        let filled: VipsImage
        switch fill {
        case .edge:
            filled = try padded(left: ext.left, top: ext.top, right: ext.right, bottom: ext.bottom, mode: .copy)
        case .mirror:
            filled = try padded(left: ext.left, top: ext.top, right: ext.right, bottom: ext.bottom, mode: .reflect101)
        case .blur(let sigma):
            let edge = try padded(left: ext.left, top: ext.top, right: ext.right, bottom: ext.bottom, mode: .copy)
            filled = try edge.softened(sigma: sigma).withInterpretation(interpretation)
        case .noise(let seed):
            filled = try VipsImage.noise(size: canvasSize, like: self, seed: seed)
        case .patchMatch(let options):
            let edge = try padded(left: ext.left, top: ext.top, right: ext.right, bottom: ext.bottom, mode: .copy)
            let newArea = try VipsImage.seamMask(canvas: canvasSize, original: rect, extension: ext, feather: 0)
            filled = try edge.filled(through: newArea, method: .patchMatch(options))
        }
        // Put the original back exactly: fills that blur or replace pixels must not touch it.
        let image = try filled.inserting(self, x: rect.x, y: rect.y).withMetadata(from: self)
        let mask = try VipsImage.seamMask(canvas: canvasSize, original: rect, extension: ext, feather: seamFeather)
        return ExtendedCanvas(image: image, mask: mask, original: rect)
    }

    /// A large-sigma blur made cheap: for sigma above 4 px the image is shrunk (in its own format, alpha
    /// premultiplied by `resized`) so the blur happens at σ = 4, then enlarged back (linear) to exactly this size.
    /// The result has this image's format.
    func softened(sigma: Double) throws -> VipsImage {
        guard sigma > 0 else { return self }
        if sigma <= 4 { return try gaussianBlurred(sigmaX: sigma, sigmaY: sigma).converted(to: format) }
        let factor = sigma / 4
        let smallW = max(1, Int((Double(width) / factor).rounded()))
        let smallH = max(1, Int((Double(height) / factor).rounded()))
        let small = try resized(width: smallW, height: smallH, kernel: .linear)
        let blurred = try small.gaussianBlurred(sigmaX: 4, sigmaY: 4).converted(to: format)
            .withInterpretation(interpretation)
        return try blurred.resized(width: width, height: height, kernel: .linear)
    }

    /// Uniform noise with the band layout, format and interpretation of `model`; alpha opaque.
    static func noise(size: ImageSize, like model: VipsImage, seed: UInt64) throws -> VipsImage {
        var generator = SplitMix64(seed: seed)
        guard size.width > 0, size.height > 0 else { throw ImagingError.invalidArgument("noise size must be positive, got \(size)") }
        try ImageLimits.default.check(width: size.width, height: size.height, bands: model.bands, bytesPerSample: 4)
        let count = size.width * size.height
        let bands = model.bands, alpha = model.hasAlpha
        switch model.format {
        case .uchar:
            var samples = [UInt8](repeating: 255, count: count * bands)
            for i in 0 ..< count {
                for b in 0 ..< (alpha ? bands - 1 : bands) { samples[i * bands + b] = UInt8(truncatingIfNeeded: generator.next() >> 56) }
            }
            return try VipsImage(bytes: samples, width: size.width, height: size.height, bands: bands,
                                 interpretation: model.interpretation)
        case .ushort:
            var samples = [UInt16](repeating: 65535, count: count * bands)
            for i in 0 ..< count {
                for b in 0 ..< (alpha ? bands - 1 : bands) { samples[i * bands + b] = UInt16(truncatingIfNeeded: generator.next() >> 48) }
            }
            return try VipsImage(shorts: samples, width: size.width, height: size.height, bands: bands,
                                 interpretation: model.interpretation)
        default:
            var samples = [Float](repeating: 1, count: count * bands)
            for i in 0 ..< count {
                for b in 0 ..< (alpha ? bands - 1 : bands) { samples[i * bands + b] = Float(generator.next() >> 40) / Float(1 << 24) }
            }
            return try VipsImage(floats: samples, width: size.width, height: size.height, bands: bands,
                                 interpretation: model.interpretation)
        }
    }

    static func seamMask(canvas: ImageSize, original: PixelRect, extension ext: CanvasExtension, feather: Int) throws -> Mask {
        func ramp(_ d: Int) -> Float {
            guard d < feather else { return 0 }
            return Float(0.5 * (1 + cos(Double.pi * Double(d + 1) / Double(feather + 1))))
        }
        func profile(length: Int, start: Int, count: Int, before: Bool, after: Bool) -> [Float] {
            (0 ..< length).map { i in
                if i < start || i >= start + count { return 1 }
                let fromStart = before ? ramp(i - start) : 0
                let fromEnd = after ? ramp(start + count - 1 - i) : 0
                return max(fromStart, fromEnd)
            }
        }
        let columns = profile(length: canvas.width, start: original.x, count: original.width,
                              before: ext.left > 0, after: ext.right > 0)
        let rows = profile(length: canvas.height, start: original.y, count: original.height,
                           before: ext.top > 0, after: ext.bottom > 0)
        let row = try VipsImage(floats: columns, width: canvas.width, height: 1, bands: 1, interpretation: .bw)
        let column = try VipsImage(floats: rows, width: 1, height: canvas.height, bands: 1, interpretation: .bw)
        let across = try row.padded(left: 0, top: 0, right: 0, bottom: canvas.height - 1, mode: .copy)
        let down = try column.padded(left: 0, top: 0, right: canvas.width - 1, bottom: 0, mode: .copy)
        return Mask(unchecked: try VipsImage.rank([across, down], maximum: true).materialized())
    }
}
