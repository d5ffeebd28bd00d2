import Imaging

extension LoadedModel {
    /// Whether the UNet takes SDXL's added conditioning (`addition_embed_type "text_time"`: pooled text
    /// embeddings and micro-conditioning time ids), so SDXL-only request parameters mean something.
    public var takesMicroConditioning: Bool { networks.unet.config.additionEmbedType == "text_time" }

    /// The size a request that names none gets: SDXL's 1024 × 1024, SD 1.x/2.x 512 × 512 as always.
    public var defaultSize: ImageSize {
        takesMicroConditioning
            ? ImageSize(width: GenerationDefaults.sdxlSide, height: GenerationDefaults.sdxlSide)
            : ImageSize(width: GenerationDefaults.width, height: GenerationDefaults.height)
    }
}
