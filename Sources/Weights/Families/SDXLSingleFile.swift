/// An SDXL single file's networks under diffusers names, each checked strictly: what the single-file loader
/// builds the UNet, VAE and the two text encoders from (the refiner has no `textEncoder1`).
public enum SDXLSingleFile {
    public struct Components: Sendable {
        /// `UNet2DConditionModel` names, `add_embedding.linear_1/2` included.
        public let unet: MappedTensorSource
        public let vae: MappedTensorSource
        /// CLIP ViT-L as `CLIPTextModel` (`text_model.*`); nil for the refiner.
        public let textEncoder1: MappedTensorSource?
        /// OpenCLIP ViT-bigG as `CLIPTextModelWithProjection` (`text_model.*`, `text_projection.weight` [proj, hidden]).
        public let textEncoder2: MappedTensorSource
    }

    /// The file's family (SDXL base or refiner) and its components; a file of another family, or one with a
    /// missing or stray tensor, is refused with the names (`NameMappingError`).
    public static func components(of checkpoint: any TensorSource) throws -> Components {
        let family = try ModelFamilies.recognise(singleFile: checkpoint)
        guard family.id == .sdxl || family.id == .sdxlRefiner else {
            throw NameMappingError.unrecognisedStructure(
                component: "checkpoint", detail: "a \(family.id) checkpoint, not SDXL")
        }
        return try components(of: checkpoint, family: family)
    }

    static func components(of checkpoint: any TensorSource, family: any ModelFamily) throws -> Components {
        let hasFirst = family.singleFileComponents.contains(.textEncoder)
        return Components(
            unet: try family.diffusersView(of: .unet, in: checkpoint),
            vae: try family.diffusersView(of: .vae, in: checkpoint),
            textEncoder1: hasFirst ? try family.diffusersView(of: .textEncoder, in: checkpoint) : nil,
            textEncoder2: try family.diffusersView(of: .textEncoder2, in: checkpoint))
    }
}
