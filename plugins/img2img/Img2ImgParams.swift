import StrictJSON
import DiffusionProtocol
import Engine
import GenerationKit

/// `img2img`'s params: the generation members plus the source image, strength and resize mode. Width and height
/// default to the image's, rounded down to multiples of 8 (known only once it is decoded).
struct Img2ImgParams {
    static let defaultResizeMode = ResizeMode.justResize

    var generation: GenerationParams
    var image: JSONValue?
    var strength: Double
    var resizeMode: ResizeMode
    /// Depth-to-image models: the depth map picture (grey; RGB through luminance), any size.
    var depthMap: JSONValue?

    init(_ params: [String: JSONValue]) {
        generation = GenerationParams(params)
        image = params["image"]
        strength = params["strength"]?.doubleValue ?? GenerationDefaults.img2imgStrength
        resizeMode = params["resize_mode"]?.stringValue.flatMap(ResizeMode.init(name:)) ?? Self.defaultResizeMode
        depthMap = params["depth_map"]
    }
}
