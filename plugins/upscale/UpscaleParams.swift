import StrictJSON
import DiffusionProtocol
import Engine

/// `upscale`'s params, decoded once. `model` defaults to realesrgan-x4plus; tile and overlap to the tiled
/// upscaler's defaults.
struct UpscaleParams {
    static let defaultModel = "realesrgan-x4plus"
    static let defaultTiffLayout = "tiled"

    var image: JSONValue?
    var modelName: String
    var scale: Double?
    var width: Int?
    var height: Int?
    var tile: Int
    var overlap: Int
    /// nil: the network's own default (`TiledUpscaler.defaultPad`).
    var tilePad: Int?
    var tiff: String?
    var refine: JSONValue?
    var output: JSONValue?

    init(_ params: [String: JSONValue]) {
        image = params["image"]
        modelName = params["model"]?.stringValue ?? Self.defaultModel
        scale = params["scale"]?.doubleValue
        width = params["width"]?.intValue
        height = params["height"]?.intValue
        tile = params["tile"]?.intValue ?? TiledUpscaler.defaultTile
        overlap = params["overlap"]?.intValue ?? TiledUpscaler.defaultOverlap
        tilePad = params["tile_pad"]?.intValue
        tiff = params["tiff"]?.stringValue
        refine = params["refine"]
        output = params["output"]
    }
}
