import StrictJSON
import DiffusionProtocol
import Engine
import GenerationKit
import PluginAPI

/// `inpaint`'s params: the generation members (used with a model), the image and its mask, and how the masked
/// area is prepared and processed.
struct InpaintParams {
    static let defaultPadding = 32
    /// What the masked area starts as with a model (the original pixels) and without one (a fill that changes them).
    static let defaultFillWithModel = "original"
    static let defaultFillWithoutModel = "patchmatch"
    static let defaultArea = "whole"

    var generation: GenerationParams

    var adapters: T2IAdapterParams
    var image: JSONValue?
    var mask: MaskParams
    /// As sent; nil takes the default for the path taken (with or without a model).
    var fill: String?
    var areaName: String
    var area: InpaintArea
    var colorMatch: Bool
    var blend: InpaintLatentBlend.Mode
    var strength: Double

    init(_ params: [String: JSONValue]) {
        generation = GenerationParams(params)
        adapters = T2IAdapterParams(params)
        image = params["image"]
        mask = MaskParams(params)
        fill = params["fill"]?.stringValue
        areaName = params["area"]?.stringValue ?? Self.defaultArea
        area = areaName == "masked" ? .masked(padding: params["padding"]?.intValue ?? Self.defaultPadding) : .whole
        colorMatch = params["color_match"]?.boolValue ?? false
        blend = params["blend"]?.stringValue == "soft" ? .soft : .hard
        strength = params["strength"]?.doubleValue ?? GenerationDefaults.repaintStrength
    }

    /// The fill `fill` names (or the path's default), seeded with `seed`.
    func inpaintFill(default name: String, seed: UInt64) throws -> InpaintFill {
        guard let fill = InpaintFill(name: fill ?? name, seed: seed) else {
            throw PluginError.invalidParam(field: "fill", reason: "must be one of \(InpaintFill.names.joined(separator: ", "))")
        }
        return fill
    }
}
