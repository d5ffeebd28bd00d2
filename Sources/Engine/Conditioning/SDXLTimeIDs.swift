import Imaging

/// What an SDXL UNet's `add_time_ids` hold; the UNet's `projection_class_embeddings_input_dim` fixes the count.
public enum SDXLTimeIDLayout: Sendable, Equatable {
    /// Base and inpaint: (orig_h, orig_w, crop_top, crop_left, target_h, target_w).
    case sizes
    /// Refiner (`requires_aesthetics_score`): (orig_h, orig_w, crop_top, crop_left, aesthetic_score).
    case aestheticScore

    public var count: Int { self == .sizes ? 6 : 5 }
}

/// The positive and negative time-id rows of one run, by diffusers' rules:
/// - sizes left out are the output size (height, width);
/// - txt2img (`StableDiffusionXLPipeline`) uses a negative row of its own only when BOTH negative sizes are
///   given (with the negative crop, which defaults to the positive one here); otherwise the negative row is
///   the positive one;
/// - img2img and inpaint with the `.sizes` layout take each missing negative size from the positive one and
///   always the POSITIVE crop (diffusers ignores `negative_crops_coords_top_left` there);
/// - `.aestheticScore`: negative sizes and crop default to the positive ones, then the negative score.
/// Where diffusers defaults a negative crop to (0, 0) instead (txt2img with both negative sizes, the refiner),
/// this follows the wire's documented default, the positive crop; they agree whenever the crop is (0, 0) or
/// the negative crop is sent.
public struct SDXLTimeIDs: Sendable, Equatable {
    public var positive: [Float]
    public var negative: [Float]

    public init(layout: SDXLTimeIDLayout, micro: MicroConditioning, output: ImageSize, imageToImage: Bool) {
        let original = micro.originalSize ?? output
        let target = micro.targetSize ?? output
        let crop = micro.cropsCoordsTopLeft
        func row(_ size: ImageSize, _ crop: CropCoordinates, _ last: [Double]) -> [Float] {
            ([Double(size.height), Double(size.width), Double(crop.top), Double(crop.left)] + last).map { Float($0) }
        }
        func sizes(_ size: ImageSize) -> [Double] { [Double(size.height), Double(size.width)] }
        switch layout {
        case .aestheticScore:
            positive = row(original, crop, [micro.aestheticScore])
            negative = row(micro.negativeOriginalSize ?? original, micro.negativeCropsCoordsTopLeft ?? crop,
                           [micro.negativeAestheticScore])
        case .sizes where imageToImage:
            positive = row(original, crop, sizes(target))
            negative = row(micro.negativeOriginalSize ?? original, crop, sizes(micro.negativeTargetSize ?? target))
        case .sizes:
            positive = row(original, crop, sizes(target))
            if let negativeOriginal = micro.negativeOriginalSize, let negativeTarget = micro.negativeTargetSize {
                negative = row(negativeOriginal, micro.negativeCropsCoordsTopLeft ?? crop, sizes(negativeTarget))
            } else {
                negative = positive
            }
        }
    }
}
