/// sd-webui-controlnet's resize_image_with_pad: the image scaled so its short side is `resolution`
/// (k = resolution / short side; sides round(side × k), half to even as numpy; INTER_CUBIC when k > 1, else
/// INTER_AREA), then edge-padded on the right and bottom to multiples of 64. Detectors run on `padded` — the pad
/// is part of their blur borders, hysteresis and statistics — and `unpadded` cuts their map back to `size`.
struct WorkingImage {
    let padded: ByteImage
    let width: Int
    let height: Int

    init(_ image: ByteImage, resolution: Int) throws(PreprocessorError) {
        let k = Double(resolution) / Double(min(image.width, image.height))
        width = Int((Double(image.width) * k).rounded(.toNearestOrEven))
        height = Int((Double(image.height) * k).rounded(.toNearestOrEven))
        let scaled = try image.resized(width: width, height: height, k > 1 ? .cubic : .area)
        padded = scaled.edgePadded(width: Self.multipleOf64(width), height: Self.multipleOf64(height))
    }

    static func multipleOf64(_ side: Int) -> Int { (side + 63) / 64 * 64 }

    func unpadded(_ map: ByteImage) -> ByteImage { map.cropped(width: width, height: height) }
}
