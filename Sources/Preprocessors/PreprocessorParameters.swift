import StrictJSON

/// The knobs of the preprocessors, with sd-webui-controlnet's defaults and slider ranges. Which members a
/// preprocessor takes is `ControlPreprocessor.parameterNames`; giving one it does not take is an error, so a
/// typo or a misplaced member is never silently ignored.
public struct PreprocessorParameters: Equatable, Sendable {
    /// The short side the image is processed at (default 512, 64–2048). invert and tile_resample accept it and
    /// ignore it, as sd-webui-controlnet does (they work at the input's size).
    public var resolution: Int
    /// canny's hysteresis thresholds on the L1 gradient (defaults 100/200, 1–255, low ≤ high).
    public var low: Int
    public var high: Int
    /// threshold's binarisation level (default 127, 0–255) or scribble_xdog's (default 32, 1–64); `nil` is the
    /// preprocessor's default.
    public var threshold: Int?
    /// tile_resample's down sampling rate (default 1, 1–8; below 1.1 the image is returned as it is).
    public var downSamplingRate: Double
    /// Put in front of member names in errors ("control[1]." makes "control[1].low").
    public var fieldPrefix: String

    public static let memberNames = ["resolution", "low", "high", "threshold", "down_sampling_rate"]

    public init(resolution: Int = 512, low: Int = 100, high: Int = 200, threshold: Int? = nil,
                downSamplingRate: Double = 1, fieldPrefix: String = "") {
        self.resolution = resolution
        self.low = low
        self.high = high
        self.threshold = threshold
        self.downSamplingRate = downSamplingRate
        self.fieldPrefix = fieldPrefix
    }

    /// Reads `resolution`, `low`, `high`, `threshold` and `down_sampling_rate` from a request object (other
    /// members are the caller's) and checks them for `preprocessor`.
    public init(decoding members: [String: JSONValue], for preprocessor: ControlPreprocessor,
                fieldPrefix: String = "") throws(PreprocessorError) {
        self.init(fieldPrefix: fieldPrefix)
        let accepted = preprocessor.parameterNames
        for name in Self.memberNames where members[name] != nil && !accepted.contains(name) {
            let takes = accepted.isEmpty ? "no parameters" : accepted.joined(separator: ", ")
            throw .invalidParameter(field: fieldPrefix + name,
                                    reason: "is not a parameter of \(preprocessor.name) (it takes \(takes))")
        }
        func integer(_ name: String) throws(PreprocessorError) -> Int? {
            guard let value = members[name] else { return nil }
            guard let int = value.intValue else {
                throw .invalidParameter(field: fieldPrefix + name, reason: "must be an integer, got \(value.typeName)")
            }
            return int
        }
        if let v = try integer("resolution") { resolution = v }
        if let v = try integer("low") { low = v }
        if let v = try integer("high") { high = v }
        threshold = try integer("threshold")
        if let value = members["down_sampling_rate"] {
            guard let rate = value.doubleValue else {
                throw .invalidParameter(field: fieldPrefix + "down_sampling_rate", reason: "must be a number, got \(value.typeName)")
            }
            downSamplingRate = rate
        }
        try validate(for: preprocessor)
    }

    /// Checks the values against the preprocessor's ranges (the decoder calls it; callers that build the
    /// struct themselves should too — `ControlPreprocessor.apply` does).
    public func validate(for preprocessor: ControlPreprocessor) throws(PreprocessorError) {
        func check(_ name: String, _ value: Int, _ range: ClosedRange<Int>) throws(PreprocessorError) {
            guard range.contains(value) else {
                throw .invalidParameter(field: fieldPrefix + name,
                                        reason: "must be from \(range.lowerBound) to \(range.upperBound) for \(preprocessor.name), got \(value)")
            }
        }
        try check("resolution", resolution, 64 ... 2048)
        switch preprocessor {
        case .canny:
            try check("low", low, 1 ... 255)
            try check("high", high, 1 ... 255)
            guard low <= high else {
                throw .invalidParameter(field: fieldPrefix + "low", reason: "must not be above high (\(low) > \(high))")
            }
        case .threshold: try check("threshold", threshold(for: preprocessor), 0 ... 255)
        case .scribbleXDoG: try check("threshold", threshold(for: preprocessor), 1 ... 64)
        case .tileResample:
            guard downSamplingRate.isFinite, downSamplingRate >= 1, downSamplingRate <= 8 else {
                throw .invalidParameter(field: fieldPrefix + "down_sampling_rate",
                                        reason: "must be from 1 to 8, got \(downSamplingRate)")
            }
        case .invert, .lineartStandard, .color: break
        }
    }

    /// The threshold a preprocessor uses: the given one or its default (threshold 127, scribble_xdog 32).
    func threshold(for preprocessor: ControlPreprocessor) -> Int {
        threshold ?? (preprocessor == .scribbleXDoG ? 32 : 127)
    }

    /// JSON Schema properties for the members, for an operation's params schema (the `preprocess` operation's,
    /// a control entry's). Ranges are the union over preprocessors; `validate` applies each one's own.
    public static var schemaProperties: [String: JSONValue] {
        [
            "resolution": ["type": "integer", "minimum": 64, "maximum": 2048,
                           "description": "short side the preprocessor works at (default 512; invert and tile_resample ignore it); the result is resized back to the input's size"],
            "low": ["type": "integer", "minimum": 1, "maximum": 255, "description": "canny: low hysteresis threshold (default 100)"],
            "high": ["type": "integer", "minimum": 1, "maximum": 255, "description": "canny: high hysteresis threshold (default 200)"],
            "threshold": ["type": "integer", "minimum": 0, "maximum": 255,
                          "description": "threshold: binarisation level, 0-255 (default 127); scribble_xdog: XDoG threshold, 1-64 (default 32)"],
            "down_sampling_rate": ["type": "number", "minimum": 1, "maximum": 8,
                                   "description": "tile_resample: divide both sides by this (default 1: below 1.1 the image is unchanged)"],
        ]
    }
}
