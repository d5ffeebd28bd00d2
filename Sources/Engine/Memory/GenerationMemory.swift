import Models
import Tensor

/// The peak working memory of a Stable Diffusion job beyond its weights, estimated from the model's widths and
/// the request's size and batch before anything runs (the admission check).
///
/// Two phases set the peak, never at once (the job frees the sampling loop's buffers and kept transforms
/// before a large decode): the UNet steps — activations of the whole guidance batch at latent resolution,
/// plus the kept Winograd-transformed weights — and the VAE decode of every image of the batch at full
/// resolution. The decoded images stay for delivery. The per-element factors are calibrated against measured
/// peaks (`Tests/EngineTests/GenerationMemoryTests.swift`, README "Admission control").
public enum GenerationMemory {
    /// float32 values per latent pixel and UNet base channel of one batch entry during a step.
    public static let unetFactor = 80
    /// float32 values per image pixel and VAE base channel of one image during the decode (with the VAE's kept
    /// transforms and the cached step buffers below, calibrated on full-size SD 1.5 at 256²–768²:
    /// `scripts/check_admission_estimate.py --sd15 DIR`).
    public static let decodeFactor = 10
    /// float32 values per image pixel kept around the job (the decoded batch, its clamped copy, encode input).
    public static let imageFactor = 12

    /// - Parameters:
    ///   - guided: the UNet runs conditional and unconditional halves together (cfg_scale > 1).
    ///   - encodes: the job VAE-encodes an input image (img2img, inpaint, outpaint, refine) of this size.
    public static func workingBytes(_ model: StableDiffusionFootprint, width: Int, height: Int, batch: Int,
                                    guided: Bool, encodes: Bool = false) -> Int {
        let scale = max(1, model.vaeScale)
        let pixels = Double(width) * Double(height)
        let latentPixels = pixels / Double(scale * scale)
        let rows = Double(batch) * (guided ? 2 : 1)
        let unetBase = Double(model.unetChannels.first ?? 320), vaeBase = Double(model.vaeChannels.first ?? 128)
        let weightTransforms = Double(min(TransformedWeightBudget.capacityBytes, model.weightBytes))
        let activations = rows * latentPixels * unetBase * Double(unetFactor) * 4
        // Freed step buffers stay in the tensor cache (up to its bound) through the decode; only buffers of at
        // least its minimum are cached, so small latents add nothing here.
        let mapBytes = latentPixels * unetBase * 4
        let cached = mapBytes >= Double(TensorBufferCache.minimumBytes) ? min(Double(TensorBufferCache.capacityBytes), activations) : 0
        let steps = activations + weightTransforms + cached
        let decodeImages = encodes ? max(1, Double(batch)) : Double(batch)
        // The VAE is a network of its own: its transforms are kept beside the decode where the latent-size
        // planes have few tiles (SD 1.5 at 512²: 64² latents, ~0.4 GB; at 768² none).
        let vaeTransforms = Double(WinogradConvolution.keptTransformBytes(weightBytes: model.weightBytes, height: height / scale,
                                                                          width: width / scale))
        let decode = decodeImages * pixels * vaeBase * Double(decodeFactor) * 4 + vaeTransforms + cached
        let images = Double(batch) * pixels * Double(imageFactor) * 4
        return ByteEstimate.clamped(max(steps, decode) + images)
    }

    /// float32 values per latent pixel and UNet base channel of one guidance row that a ControlNet's residuals
    /// hold while the UNet runs (its 12 down-block outputs and the mid block's: about 6× the first level's
    /// width at latent resolution), plus what the ControlNet's own run leaves live beside them: measured 8.8 (a
    /// tiny SD1 ControlNet at 256², CFG, `scripts/check_admission_estimate.py`), so 10 rather than the 6 the
    /// residuals alone would take.
    public static let controlResidualFactor = 10
    /// float32 values per latent pixel and UNet base channel a T2I-Adapter's features take (four levels) with
    /// its run's activations (the pixel-unshuffled picture and its first-width maps at latent size): measured
    /// 15.3 on the tiny SD1 adapter at 256² (the features alone would be 2).
    public static let adapterFeatureFactor = 16

    /// A ControlNet entry's working memory: its residuals for the whole guidance batch, its control image
    /// (float32 RGB at the output size) and its kept Winograd transforms (bounded per network, as the UNet's).
    public static func controlBytes(_ model: StableDiffusionFootprint, width: Int, height: Int, batch: Int, guided: Bool,
                                    controlNetWeightBytes: Int = 0) -> Int {
        let (pixels, latentPixels, unetBase) = sizes(model, width: width, height: height)
        let rows = Double(batch) * (guided ? 2 : 1)
        let transforms = Double(min(TransformedWeightBudget.capacityBytes, max(0, controlNetWeightBytes)))
        return ByteEstimate.clamped(rows * latentPixels * unetBase * Double(controlResidualFactor) * 4 + pixels * 3 * 4 + transforms)
    }

    /// A T2I-Adapter entry's working memory: its features and its picture (float32 RGB at the output size).
    public static func adapterBytes(_ model: StableDiffusionFootprint, width: Int, height: Int) -> Int {
        let (pixels, latentPixels, unetBase) = sizes(model, width: width, height: height)
        return ByteEstimate.clamped(latentPixels * unetBase * Double(adapterFeatureFactor) * 4 + pixels * 3 * 4)
    }

    /// A decoded input image (img2img, inpaint, outpaint): its 8-bit pixels and their float32 copy.
    public static func inputBytes(width: Int, height: Int, bands: Int) -> Int {
        ByteEstimate.clamped(Double(width) * Double(height) * Double(max(1, bands)) * (1 + 4))
    }

    private static func sizes(_ model: StableDiffusionFootprint, width: Int, height: Int) -> (Double, Double, Double) {
        let scale = max(1, model.vaeScale)
        let pixels = Double(width) * Double(height)
        return (pixels, pixels / Double(scale * scale), Double(model.unetChannels.first ?? 320))
    }
}

/// Estimates are computed in Double so absurd requests (batch 64 at 8192²) saturate instead of trapping.
public enum ByteEstimate {
    public static func clamped(_ bytes: Double) -> Int {
        bytes.isFinite && bytes < Double(Int.max / 2) ? Int(bytes.rounded(.up)) : Int.max / 2
    }
}
