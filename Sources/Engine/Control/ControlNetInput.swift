import Imaging

/// One entry of a request's `control` list as the engine runs it: a resident ControlNet, its control image as
/// decoded (any size; fitted to the run's size by `resizeMode` when the run starts) and how strongly and when it
/// steers. Several entries sum their residuals.
public struct ControlNetInput: @unchecked Sendable {
    // @unchecked: the image is an immutable VipsImage.
    public var controlNet: LoadedControlNet
    public var image: VipsImage
    /// How the image is fitted to the output size (img2img's rules).
    public var resizeMode: ResizeMode
    /// diffusers' `controlnet_conditioning_scale`.
    public var weight: Double
    /// Fractions of the steps: the entry acts on step i of n unless i/n < start or (i + 1)/n > end.
    public var start: Double
    public var end: Double
    /// Run on the conditional half only, residuals scaled from 0.1 to 1 (diffusers' guess mode); always on for
    /// global-pooling models, as diffusers forces it for them.
    public var guessMode: Bool
    /// The request member it came from (`control[1]`), for errors.
    public var field: String

    public init(controlNet: LoadedControlNet, image: VipsImage, resizeMode: ResizeMode = .justResize,
                weight: Double = 1, start: Double = 0, end: Double = 1, guessMode: Bool = false, field: String) {
        self.controlNet = controlNet
        self.image = image
        self.resizeMode = resizeMode
        self.weight = weight
        self.start = start
        self.end = end
        self.guessMode = guessMode
        self.field = field
    }

    /// Whether it acts on step `i` of `n` (diffusers' `controlnet_keep`).
    public func isActive(step i: Int, of n: Int) -> Bool {
        let total = Double(max(n, 1))
        return !(Double(i) / total < start || Double(i + 1) / total > end)
    }

    /// Whether it runs in guess mode: asked for, or forced by a global-pooling model.
    public var runsInGuessMode: Bool { guessMode || controlNet.network.config.globalPoolConditions }
}
