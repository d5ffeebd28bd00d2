import StrictJSON
import DiffusionProtocol
import Engine
import GenerationKit
import Imaging

/// `outpaint`'s params: the generation members (used with a model), the image, how far to extend it and how the
/// new area is filled and repainted.
struct OutpaintParams {
    static let defaultFill = "patchmatch"
    static let defaultBlurSigma = 32.0
    static let defaultWindow = 512

    var generation: GenerationParams
    /// T2I-Adapters; their pictures cover the extended canvas, as control images do.
    var adapters: T2IAdapterParams
    var image: JSONValue?
    var left, top, right, bottom: Int
    var fillName: String
    var blurSigma: Double
    var feather: Int
    var blend: InpaintLatentBlend.Mode
    var window: Int
    var strength: Double

    init(_ params: [String: JSONValue]) {
        generation = GenerationParams(params)
        adapters = T2IAdapterParams(params)
        image = params["image"]
        let e = params["extend"]
        left = e?["left"]?.intValue ?? 0
        top = e?["top"]?.intValue ?? 0
        right = e?["right"]?.intValue ?? 0
        bottom = e?["bottom"]?.intValue ?? 0
        fillName = params["fill"]?.stringValue ?? Self.defaultFill
        blurSigma = params["blur_sigma"]?.doubleValue ?? Self.defaultBlurSigma
        feather = params["feather"]?.intValue ?? 0
        blend = params["blend"]?.stringValue == "soft" ? .soft : .hard
        window = params["window"]?.intValue ?? Self.defaultWindow
        strength = params["strength"]?.doubleValue ?? GenerationDefaults.repaintStrength
    }

    /// The fill `fill` names; PatchMatch stops when `isCancelled` says so.
    func canvasFill(isCancelled: @escaping @Sendable () -> Bool) -> CanvasFill {
        let seed = generation.fillSeed
        switch fillName {
        case "edge": return .edge
        case "mirror": return .mirror
        case "blur": return .blur(sigma: blurSigma)
        case "noise": return .noise(seed: seed)
        default: return .patchMatch(PatchMatchOptions(seed: seed, shouldCancel: isCancelled))
        }
    }
}
