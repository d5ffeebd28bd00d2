import Tensor

/// A depth-to-image model's extra UNet input, prepared as diffusers' `StableDiffusionDepth2ImgPipeline`
/// `prepare_depth_map` does with a user's map: bicubic resize (no antialiasing) to the latent size, then each
/// image's map scaled to [-1, 1] by its own minimum and maximum. That scaling makes any affine encoding of the
/// map the same input: an 8-bit grey PNG, a 16-bit one or a float map of the same shape agree.
public enum DepthMap {
    /// `depth` [1 | images, 1, H, W] at any size → [images, 1, latentHeight, latentWidth] in [-1, 1].
    public static func prepare(_ depth: Tensor, images: Int, latentHeight: Int, latentWidth: Int) throws -> Tensor {
        guard depth.rank == 4, depth.shape[1] == 1, depth.shape[0] == 1 || depth.shape[0] == images,
              depth.shape[2] > 0, depth.shape[3] > 0 else {
            throw EngineError.invalidParameter(field: "depth_map",
                reason: "expected a [1, 1, H, W] or [\(images), 1, H, W] map, got \(depth.shape)")
        }
        let resized = resizeBicubic(depth, height: latentHeight, width: latentWidth)
        let plane = latentHeight * latentWidth
        var values = resized.scalars
        for image in 0 ..< depth.shape[0] {
            let range = image * plane ..< (image + 1) * plane
            guard let low = values[range].min(), let high = values[range].max(), values[range].allSatisfy(\.isFinite) else {
                throw EngineError.invalidParameter(field: "depth_map", reason: "the depth map has non-finite values")
            }
            guard high > low else {
                throw EngineError.invalidParameter(field: "depth_map",
                    reason: "the depth map is flat (every value \(low)); a depth map needs near and far parts")
            }
            for i in range { values[i] = 2 * (values[i] - low) / (high - low) - 1 }
        }
        let prepared = Tensor(shape: [depth.shape[0], 1, latentHeight, latentWidth], values: values)
        guard depth.shape[0] < images else { return prepared }
        return concat(Array(repeating: prepared, count: images), axis: 0)
    }
}
