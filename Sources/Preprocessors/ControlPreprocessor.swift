import Imaging

/// The model-free ControlNet preprocessors, as sd-webui-controlnet defines them. Callers with a request object
/// (the `preprocess` operation, ControlNet's `control[i]` entries) go through `ControlPreprocessing`:
///
///     if let step = try ControlPreprocessing.decode(from: entry, fieldPrefix: "control[\(i)].") {  // nil: "none"
///         let size = step.workingSize(width: image.width, height: image.height)    // check before any work
///         try context.imageLimits.check(width: size.width, height: size.height, bands: 3, bytesPerSample: 4)
///         image = try step.apply(to: image)    // 8-bit sRGB, 3 bands, the input's size
///     }
///
/// or, with values in hand, `ControlPreprocessor.named(_:)` + `PreprocessorParameters(...)` + `apply(to:parameters:)`.
///
/// `detectedMap` is the map at the working resolution, exactly what sd-webui-controlnet returns; `apply`
/// resizes it back to the input's size (`resizeBack`). canny, scribble_xdog and lineart_standard draw white
/// lines on black, threshold is white where the image is bright; grey maps are repeated into three channels.
public enum ControlPreprocessor: String, CaseIterable, Sendable {
    case canny
    case scribbleXDoG = "scribble_xdog"
    case threshold
    case invert
    case lineartStandard = "lineart_standard"
    case color
    case tileResample = "tile_resample"

    /// The request name.
    public var name: String { rawValue }

    public static var names: [String] { allCases.map(\.name) }

    /// The preprocessor called `name`; an unknown name is an error naming `field`.
    public static func named(_ name: String, field: String = "preprocess") throws(PreprocessorError) -> ControlPreprocessor {
        guard let found = ControlPreprocessor(rawValue: name) else {
            throw .unknownPreprocessor(field: field, name: name, known: names)
        }
        return found
    }

    /// The members of `PreprocessorParameters` this preprocessor reads (every one accepts `resolution`).
    public var parameterNames: [String] {
        switch self {
        case .canny: return ["resolution", "low", "high"]
        case .scribbleXDoG, .threshold: return ["resolution", "threshold"]
        case .tileResample: return ["resolution", "down_sampling_rate"]
        case .invert, .lineartStandard, .color: return ["resolution"]
        }
    }

    /// How `apply` brings the map back to the input's size.
    public enum ResizeBack: Sendable {
        /// INTER_NEAREST: keeps binary maps binary and colour blocks flat.
        case nearest
        /// INTER_CUBIC when enlarging (the input's short side is longer than the map's), else INTER_AREA —
        /// the rule resize_image_with_pad uses on the way in.
        case cubicOrArea
    }

    public var resizeBack: ResizeBack {
        switch self {
        case .canny, .scribbleXDoG, .threshold, .color: return .nearest
        case .lineartStandard, .invert, .tileResample: return .cubicOrArea
        }
    }

    /// The largest image the preprocessor builds for a `width`×`height` input (the padded working image, or
    /// color's shortest-edge image), so a caller can check it against its limits before any work: a 2048
    /// resolution on a very elongated input would otherwise allocate without bound.
    public func workingSize(width: Int, height: Int, parameters: PreprocessorParameters) -> ImageSize {
        let short = Double(min(width, height)), k = Double(parameters.resolution) / short
        func scaled(_ side: Int) -> Int {
            let v = (Double(side) * k).rounded(.toNearestOrEven)
            return v < Double(Int.max / 2) ? Int(v) : Int.max / 2
        }
        switch self {
        case .invert, .tileResample: return ImageSize(width: width, height: height)
        case .color: return ImageSize(width: scaled(width), height: scaled(height))
        case .canny, .scribbleXDoG, .threshold, .lineartStandard:
            return ImageSize(width: WorkingImage.multipleOf64(scaled(width)), height: WorkingImage.multipleOf64(scaled(height)))
        }
    }

    /// The detected map at the working resolution: 3 channels, sized as sd-webui-controlnet's (round(side × k)
    /// for the padded detectors, the shortest-edge size for color, int(side / rate) for tile_resample, the
    /// input's for invert).
    public func detectedMap(for image: ByteImage, parameters: PreprocessorParameters) throws(PreprocessorError) -> ByteImage {
        try parameters.validate(for: self)
        let input = image.rgb
        switch self {
        case .invert: return Detectors.invert(input)
        case .color: return try Detectors.color(input, resolution: parameters.resolution)
        case .tileResample:
            do { return try Detectors.tileResample(input, rate: parameters.downSamplingRate) } catch {
                if case .invalidParameter(let field, let reason) = error {
                    throw .invalidParameter(field: parameters.fieldPrefix + field, reason: reason)
                }
                throw error
            }
        case .canny, .scribbleXDoG, .threshold, .lineartStandard:
            let working = try WorkingImage(input, resolution: parameters.resolution)
            let map: ByteImage
            switch self {
            case .canny: map = Canny(low: parameters.low, high: parameters.high).apply(to: working.padded)
            case .scribbleXDoG: map = Detectors.scribbleXDoG(working.padded, threshold: parameters.threshold(for: self))
            case .threshold: map = Detectors.threshold(working.padded, threshold: parameters.threshold(for: self))
            default: map = Detectors.lineartStandard(working.padded)
            }
            return working.unpadded(map).rgb
        }
    }

    /// The control image at the input's size: `detectedMap` resized back by `resizeBack`.
    public func apply(to image: ByteImage, parameters: PreprocessorParameters) throws(PreprocessorError) -> ByteImage {
        try resizedBack(try detectedMap(for: image, parameters: parameters), width: image.width, height: image.height)
    }

    /// A detected map brought to `width`×`height` by `resizeBack` (itself when it already has that size).
    public func resizedBack(_ map: ByteImage, width: Int, height: Int) throws(PreprocessorError) -> ByteImage {
        if map.width == width && map.height == height { return map }
        switch resizeBack {
        case .nearest:
            return try map.resized(width: width, height: height, .nearest)
        case .cubicOrArea:
            let enlarging = Double(min(width, height)) / Double(min(map.width, map.height)) > 1
            return try map.resized(width: width, height: height, enlarging ? .cubic : .area)
        }
    }

    /// `apply` on a decoded image (HWC3 rules: alpha over white, grey repeated, 16-bit rounded to 8), as an
    /// 8-bit sRGB image with three bands. Throws `PreprocessorError` or the `ImagingError` of a failed read.
    public func apply(to image: VipsImage, parameters: PreprocessorParameters) throws -> VipsImage {
        try apply(to: ByteImage(hwc3: image), parameters: parameters).vipsImage()
    }
}
