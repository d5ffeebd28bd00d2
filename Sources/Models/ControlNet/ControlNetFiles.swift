import Foundation
import StrictJSON
import Weights

/// A ControlNet on disk, read as far as its config: what loading builds and `models.list` reports.
public struct ControlNetFile: @unchecked Sendable {
    // @unchecked: the weights are an immutable file view (mmap or a restricted-unpickler record table).
    /// The Stable Diffusion family whose UNet it was trained against (sd1, sd2, sdxl).
    public let family: ModelFamilyID
    public let config: ControlNetConfig
    /// Under diffusers' `ControlNetModel` names.
    public let weights: TensorSource
    public let layout: ModelDescription.Layout
    /// The weights file (inside the folder for diffusers layouts).
    public let weightsPath: String
    /// The element types the weights are stored in (as their headers or tensor records say), sorted, each once.
    public let dtypes: [DType]
}

/// Opens ControlNets: diffusers folders (`config.json` + `diffusion_pytorch_model[.fp16].safetensors|.bin`), single
/// files under diffusers' names without a config (`DiffusersControlNetStructure`), and single files in the original layout (`.safetensors`, or `.pth`/`.ckpt`/`.pt` through the restricted
/// unpickler, which never runs code) with `control_model.` or bare names (`LDMControlNetLayout`). A single file's
/// config comes from its tensors; the family from the context width and the added embedding
/// (`ControlNetFamily`).
public enum ControlNetFiles {
    public static func open(path: String, options: ControlNetOptions = ControlNetOptions()) throws -> ControlNetFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        return isDirectory.boolValue ? try openFolder(path) : try openFile(path, options: options)
    }

    /// The network, strictly loaded (every tensor used, every shape checked).
    public static func load(path: String, options: ControlNetOptions = ControlNetOptions()) throws
        -> (file: ControlNetFile, network: ControlNet)
    {
        let file = try open(path: path, options: options)
        let network = try component("controlnet", file.weightsPath) {
            try ControlNet(config: file.config, weights: file.weights)
        }
        return (file, network)
    }

    static func openFolder(_ path: String) throws -> ControlNetFile {
        let configPath = (path as NSString).appendingPathComponent("config.json")
        let config: ControlNetConfig = try DiffusersFolder.decodeJSON(configPath)
        let weights = try DiffusersFolder.openWeights(in: path, stem: "diffusion_pytorch_model",
                                                      legacyStem: "diffusion_pytorch_model", variant: nil)
        let family = ControlNetFamily.detect(contextDim: try contextDim(of: config.unet, path: configPath),
                                             addedEmbedding: config.unet.additionEmbedType == "text_time",
                                             linearProjection: config.unet.useLinearProjection)
        return ControlNetFile(family: family, config: config, weights: weights.source, layout: .diffusers,
                              weightsPath: weights.path, dtypes: sortedTypes(ModelProbe.storedDTypes(weights.source)))
    }

    static func openFile(_ path: String, options: ControlNetOptions) throws -> ControlNetFile {
        let file = try WeightFiles.open(path)
        let layout: ModelDescription.Layout = file is SafeTensorsFile ? .safetensors : .ckpt
        if DiffusersControlNetStructure.recognises(file) {
            let structure = try DiffusersControlNetStructure.detect(file, path: path)
            let family = ControlNetFamily.detect(contextDim: structure.contextDim,
                                                 addedEmbedding: structure.addedEmbeddingInputDim != nil,
                                                 linearProjection: structure.useLinearProjection)
            var config = try ControlNetFamily.config(of: structure, family: family, options: options, path: path)
            config.globalPoolConditions = ControlNetSidecar.globalAveragePooling(besides: path) ?? false
            return ControlNetFile(family: family, config: config, weights: file, layout: layout, weightsPath: path,
                                  dtypes: sortedTypes(ModelProbe.storedDTypes(file)))
        }
        let structure: LDMControlNetLayout
        let mapped: MappedTensorSource
        do {
            guard LDMControlNetLayout.recognises(file) else {
                throw CheckpointError.unsupportedConfig(path: path,
                    reason: "not a ControlNet: no hint block (input_hint_block with or without control_model., or controlnet_cond_embedding)")
            }
            structure = try LDMControlNetLayout.detect(file)
            mapped = try structure.mapping(file)
        } catch let error as NameMappingError {
            throw CheckpointError.mapping(path: path, error: error)
        }
        let family = ControlNetFamily.detect(contextDim: structure.contextDim,
                                             addedEmbedding: structure.addedEmbeddingInputDim != nil,
                                             linearProjection: structure.useLinearProjection)
        var config = try ControlNetFamily.config(of: structure, family: family, options: options, path: path)
        // Shuffle-type models pool globally; only their sidecar config says so.
        config.globalPoolConditions = ControlNetSidecar.globalAveragePooling(besides: path) ?? false
        let used = Set(mapped.table.values.map(\.name))
        return ControlNetFile(family: family, config: config, weights: mapped, layout: layout, weightsPath: path,
                              dtypes: sortedTypes(ModelProbe.storedDTypes(file, only: used)))
    }

    static func sortedTypes(_ types: [DType]) -> [DType] { Set(types).sorted { $0.rawValue < $1.rawValue } }

    static func contextDim(of config: UNetConfig, path: String) throws -> Int {
        switch config.crossAttentionDim {
        case let .single(width): return width
        case let .perBlock(widths):
            guard let first = widths.first, Set(widths).count == 1 else {
                throw CheckpointError.unsupportedConfig(path: path, reason: "cross_attention_dim \(widths) differs per block")
            }
            return first
        }
    }
}
