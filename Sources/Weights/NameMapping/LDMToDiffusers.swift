/// Single-file (original LDM layout) checkpoints presented with diffusers names, one component at a time,
/// strictly: a tensor the component needs and the file lacks, or a tensor under the component's prefix
/// that nothing consumes, fails with its name. The tables live in LDMUNetLayout, LDMVAELayout and
/// LDMTextEncoderLayout (loops over the detected block structure).
public enum LDMToDiffusers {
    /// `model.diffusion_model.*` as `UNet2DConditionModel` names.
    public static func unet(_ checkpoint: any TensorSource) throws -> MappedTensorSource {
        try LDMUNetLayout.detect(checkpoint).mapping(checkpoint)
    }

    /// `first_stage_model.*` as `AutoencoderKL` names (mid-attention 1x1 convs become linear weights).
    public static func vae(_ checkpoint: any TensorSource) throws -> MappedTensorSource {
        try LDMVAELayout.detect(checkpoint).mapping(checkpoint)
    }

    /// `cond_stage_model.*` as `CLIPTextModel` names under "text_model.". For SD2 (OpenCLIP) the default
    /// exposes the diffusers layout, one layer short of the file (see `OpenCLIPDepth`).
    public static func textEncoder(_ checkpoint: any TensorSource,
                                   openCLIPDepth: OpenCLIPDepth = .penultimate) throws -> MappedTensorSource {
        try LDMTextEncoderLayout.detect(checkpoint).mapping(checkpoint, depth: openCLIPDepth)
    }
}
