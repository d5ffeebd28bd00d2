import StrictJSON
import Engine
import Imaging

/// The SDXL-only request members, decoded from schema-validated params. A model without SDXL's added
/// conditioning ignores them and the result lists them in `ignored`, so a plug-in can always send them.
///
/// Wire defaults: `original_size` and `target_size` the output size, `crops_coords_top_left` (0, 0), each
/// `negative_*` its positive member (txt2img uses negative sizes only when both are sent, as diffusers;
/// see `SDXLTimeIDs`), `prompt_2` / `negative_prompt_2` the first prompts, aesthetic scores 6 / 2.5 (refiner).
public struct SDXLParams: Sendable, Equatable {
    public var prompt2: String?
    public var negativePrompt2: String?
    public var micro: MicroConditioning
    /// The SDXL members the request carried, in `SDXLParams.members` order.
    public var sent: [String]

    /// Every SDXL-only member, as named on the wire.
    public static let members = ["prompt_2", "negative_prompt_2", "original_size", "target_size", "crops_coords_top_left",
                                 "negative_original_size", "negative_target_size", "negative_crops_coords_top_left",
                                 "aesthetic_score", "negative_aesthetic_score"]

    public init(_ params: [String: JSONValue]) {
        prompt2 = params["prompt_2"]?.stringValue
        negativePrompt2 = params["negative_prompt_2"]?.stringValue
        micro = MicroConditioning(
            originalSize: Self.size(params["original_size"]), targetSize: Self.size(params["target_size"]),
            cropsCoordsTopLeft: Self.crop(params["crops_coords_top_left"]) ?? GenerationDefaults.cropsCoordsTopLeft,
            negativeOriginalSize: Self.size(params["negative_original_size"]),
            negativeTargetSize: Self.size(params["negative_target_size"]),
            negativeCropsCoordsTopLeft: Self.crop(params["negative_crops_coords_top_left"]),
            aestheticScore: params["aesthetic_score"]?.doubleValue ?? GenerationDefaults.aestheticScore,
            negativeAestheticScore: params["negative_aesthetic_score"]?.doubleValue ?? GenerationDefaults.negativeAestheticScore)
        sent = Self.members.filter { params[$0] != nil }
    }

    /// The members a model cannot use: all that were sent, unless it takes SDXL's micro-conditioning.
    public func ignored(by model: LoadedModel) -> [String] {
        model.takesMicroConditioning ? [] : sent
    }

    /// The result's `ignored` member, absent when nothing was ignored (results of plain requests stay as they were).
    public func ignoredMember(for model: LoadedModel) -> [String: JSONValue] {
        let names = ignored(by: model)
        return names.isEmpty ? [:] : ["ignored": .array(names.map { .string($0) })]
    }

    /// Copies what the engine uses into `request`.
    public func apply(to request: inout GenerationRequest) {
        request.prompt2 = prompt2
        request.negativePrompt2 = negativePrompt2
        request.micro = micro
    }

    /// `{"width", "height"}`.
    static func size(_ value: JSONValue?) -> ImageSize? {
        guard let o = value?.objectValue, let w = o["width"]?.intValue, let h = o["height"]?.intValue else { return nil }
        return ImageSize(width: w, height: h)
    }

    /// `{"x", "y"}`: x = left, y = top.
    static func crop(_ value: JSONValue?) -> CropCoordinates? {
        guard let o = value?.objectValue, let x = o["x"]?.intValue, let y = o["y"]?.intValue else { return nil }
        return CropCoordinates(top: y, left: x)
    }
}
