import Glibc
import VipsShim

extension VipsImage {
    /// Separable Gaussian blur with cv2.GaussianBlur's conventions (as A1111 uses them for mask blur):
    /// kernel size 2·⌊2.5σ + 0.5⌋ + 1, weights exp(−x²/2σ²) normalised, borders reflected without repeating the
    /// edge. Computed in float; the result is float (callers convert back to their format).
    public func gaussianBlurred(sigmaX: Double, sigmaY: Double) throws -> VipsImage {
        guard sigmaX >= 0, sigmaY >= 0, sigmaX <= Self.maxBlurSigma, sigmaY <= Self.maxBlurSigma else {
            throw ImagingError.invalidArgument("blur sigma must be between 0 and \(Self.maxBlurSigma), got \(sigmaX), \(sigmaY)")
        }
        var current = try converted(to: .float)
        if sigmaX > 0 { current = try current.gaussian1D(sigma: sigmaX, horizontal: true) }
        if sigmaY > 0 { current = try current.gaussian1D(sigma: sigmaY, horizontal: false) }
        return current
    }

    /// Largest accepted sigma: its kernel (2·⌊2.5σ + 0.5⌋ + 1 taps) stays small, and a huge sigma from a
    /// request cannot trap converting the radius to Int. Far wider than any image side that passes the limits'
    /// useful range (a blur this wide is already flat).
    public static let maxBlurSigma: Double = 10_000

    /// The 1-D kernel cv2.getGaussianKernel builds for size 2·⌊2.5σ + 0.5⌋ + 1 and σ > 0.
    public static func gaussianKernel(sigma: Double) -> [Double] {
        let radius = Int(2.5 * sigma + 0.5)
        let n = 2 * radius + 1
        let weights = (0 ..< n).map { i -> Double in
            let x = Double(i) - Double(n - 1) * 0.5
            return exp(-0.5 / (sigma * sigma) * x * x)
        }
        let sum = weights.reduce(0, +)
        return weights.map { $0 / sum }
    }

    private func gaussian1D(sigma: Double, horizontal: Bool) throws -> VipsImage {
        let kernel = VipsImage.gaussianKernel(sigma: sigma)
        let radius = kernel.count / 2
        if radius == 0 { return self }
        let matrix = try VipsImage.matrix(width: horizontal ? kernel.count : 1, height: horizontal ? 1 : kernel.count,
                                          values: kernel)
        let padded = try self.padded(left: horizontal ? radius : 0, top: horizontal ? 0 : radius,
                                     right: horizontal ? radius : 0, bottom: horizontal ? 0 : radius, mode: .reflect101)
        let blurred = try withExtendedLifetime(matrix) {
            try padded.derive("conv") { vshim_conv_float($0, $1, matrix.pointer) }
        }
        return try blurred.cropped(to: PixelRect(x: horizontal ? radius : 0, y: horizontal ? 0 : radius,
                                                 width: width, height: height))
    }
}
