import Foundation
import Tensor
import Weights

/// What a Stable Diffusion model costs in memory, read from configs and tensor headers without loading it:
/// the float32 bytes its weights take once loaded (every stored tensor, whatever its file dtype) and the
/// widths that size its activations. The admission check (`GenerationMemory`) estimates a job from it.
public struct StableDiffusionFootprint: Equatable, Sendable {
    /// float32 weight bytes.
    public var weightBytes: Int
    /// UNet channels per level (`block_out_channels`) and latent channels.
    public var unetChannels: [Int]
    public var latentChannels: Int
    /// VAE channels per level; the decoder's last (full-resolution) level has the first.
    public var vaeChannels: [Int]
    /// The bf16 copies a bf16 job makes of its networks: 2 bytes per stored value of the text encoders, the UNet
    /// and a VAE without `force_upcast` (a single file's every tensor: an upper bound).
    public var bf16CopyBytes = 0
    /// Image pixels per latent pixel along a side (8 for every supported family).
    public var vaeScale: Int { 1 << max(0, vaeChannels.count - 1) }

    public init(weightBytes: Int, unetChannels: [Int], latentChannels: Int, vaeChannels: [Int]) {
        self.weightBytes = weightBytes
        self.unetChannels = unetChannels
        self.latentChannels = latentChannels
        self.vaeChannels = vaeChannels
    }

    /// From a diffusers folder (its unet/vae configs and weight headers) or a single file (what detection
    /// infers from its tensors). Throws what `ModelProbe.describe` throws for the same file.
    public static func read(path: String) throws -> StableDiffusionFootprint {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        if isDirectory.boolValue {
            let root = path as NSString
            let unet: UNetConfig = try DiffusersFolder.decodeJSON(root.appendingPathComponent("unet/config.json"))
            let vae: VAEConfig = try DiffusersFolder.decodeJSON(root.appendingPathComponent("vae/config.json"))
            var elements = 0, vaeElements = 0
            for (folder, stem, legacy) in [("text_encoder", "model", "pytorch_model"), ("text_encoder_2", "model", "pytorch_model"),
                                           ("unet", "diffusion_pytorch_model", "diffusion_pytorch_model"),
                                           ("vae", "diffusion_pytorch_model", "diffusion_pytorch_model")] {
                let component = root.appendingPathComponent(folder)
                guard FileManager.default.fileExists(atPath: component) else { continue }
                let count = elementCount(try DiffusersFolder.openWeights(in: component, stem: stem, legacyStem: legacy, variant: nil).source)
                elements += count
                if folder == "vae" { vaeElements = count }
            }
            var footprint = StableDiffusionFootprint(weightBytes: elements * MemoryLayout<Float>.size, unetChannels: unet.blockOutChannels,
                                                     latentChannels: vae.latentChannels, vaeChannels: vae.blockOutChannels)
            footprint.bf16CopyBytes = (vae.forceUpcast ? elements - vaeElements : elements) * TensorElementType.bfloat16.byteWidth
            return footprint
        }
        let file = try WeightFiles.open(path)
        let family: any ModelFamily
        let architecture: SingleFileArchitecture
        do {
            family = try ModelFamilies.recognise(singleFile: file)
            let sidecar = try InferenceConfigSidecar.beside(path)
            architecture = try family.architecture(
                of: file, conventions: sidecar.map { $0.conventions(over: family.conventions) } ?? family.conventions)
        } catch let error as NameMappingError {
            throw CheckpointError.unrecognised(path: path, reason: error.description)
        }
        let vae = architecture.vae
        let elements = elementCount(file)
        var footprint = StableDiffusionFootprint(weightBytes: elements * MemoryLayout<Float>.size,
                                                 unetChannels: architecture.unet.blockOutChannels,
                                                 latentChannels: vae?.latentChannels ?? 4,
                                                 vaeChannels: vae?.blockOutChannels ?? [128, 256, 512, 512])
        footprint.bf16CopyBytes = elements * TensorElementType.bfloat16.byteWidth
        return footprint
    }

    /// Every tensor's elements (a checkpoint's EMA copies and buffers too: an upper bound).
    static func elementCount(_ source: any TensorSource) -> Int {
        source.names.reduce(0) { sum, name in sum + (source.shape(of: name)?.reduce(1, *) ?? 0) }
    }
}
