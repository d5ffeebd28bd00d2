import Imaging

/// SDXL's micro-conditioning as a request states it. Absent sizes mean "the output size" (diffusers' default);
/// absent negative values follow the rules of `SDXLTimeIDs`.
public struct MicroConditioning: Sendable, Equatable {
    public var originalSize: ImageSize?
    public var targetSize: ImageSize?
    public var cropsCoordsTopLeft: CropCoordinates
    public var negativeOriginalSize: ImageSize?
    public var negativeTargetSize: ImageSize?
    public var negativeCropsCoordsTopLeft: CropCoordinates?
    /// Refiner only (time-id layout `.aestheticScore`).
    public var aestheticScore: Double
    public var negativeAestheticScore: Double

    public init(originalSize: ImageSize? = nil, targetSize: ImageSize? = nil,
                cropsCoordsTopLeft: CropCoordinates = GenerationDefaults.cropsCoordsTopLeft,
                negativeOriginalSize: ImageSize? = nil, negativeTargetSize: ImageSize? = nil,
                negativeCropsCoordsTopLeft: CropCoordinates? = nil,
                aestheticScore: Double = GenerationDefaults.aestheticScore,
                negativeAestheticScore: Double = GenerationDefaults.negativeAestheticScore) {
        self.originalSize = originalSize
        self.targetSize = targetSize
        self.cropsCoordsTopLeft = cropsCoordsTopLeft
        self.negativeOriginalSize = negativeOriginalSize
        self.negativeTargetSize = negativeTargetSize
        self.negativeCropsCoordsTopLeft = negativeCropsCoordsTopLeft
        self.aestheticScore = aestheticScore
        self.negativeAestheticScore = negativeAestheticScore
    }
}
