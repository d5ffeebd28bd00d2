import Foundation
import Sampling
import Weights

/// Describes a model on disk without loading it, for `models.list`: only safetensors headers, the
/// restricted unpickler's tensor records (no tensor data), ncnn `.param` text with the `.bin` layout
/// (storage tags only), and diffusers configs are read. The same detection as loading decides what a
/// model is (`ModelFamilies`, `PredictionRule`, `UpscalerModel.architecture(of:path:)`), and the
/// single-file name mappings are checked, so a model that describes cleanly fails to load only on
/// tensor data or on shapes its networks check.
///
/// Throws what loading throws for the same defect, each naming the path (never traps on a hostile file):
/// `CheckpointError` for Stable Diffusion models and for any .safetensors/.ckpt/.pt/.pth the format layer
/// refuses (`.unreadable`, with the `WeightsError` text: truncation, bad header, refused pickle global, …);
/// for upscalers `UpscalerLoadError` (missing .bin), `WeightsError` (malformed ncnn .param/.bin) or
/// `ModelLoadError` (shapes that form no RRDBNet/SRVGGNetCompact). A listing catches them per entry.
public enum ModelProbe {
    public static func describe(path: String) throws -> ModelDescription {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        if isDirectory.boolValue { return try describeFolder(path) }
        switch (path as NSString).pathExtension.lowercased() {
        case "param": return try describeNCNN(path)
        case "safetensors", "ckpt", "pt", "pth": return try describeFile(path)
        default: throw CheckpointError.unsupportedFile(path: path)
        }
    }

    // MARK: Stable Diffusion

    private static func describeAdapter(_ path: String, layout: ModelDescription.Layout) throws -> ModelDescription {
        let (config, dtypes) = try T2IAdapterFiles.describe(path: path)
        return ModelDescription(path: path, layout: layout, dtypes: dtypes, details: .t2iAdapter(config))
    }

    private static func describeFolder(_ path: String) throws -> ModelDescription {
        if T2IAdapterFiles.isAdapterFolder(path) { return try describeAdapter(path, layout: .diffusers) }
        guard DiffusersFolder.isFolder(path) else {
            throw CheckpointError.missingFile(path: (path as NSString).appendingPathComponent("model_index.json"))
        }
        let root = path as NSString
        // SDXL refiner folders have no text_encoder (model_index lists it as null), only text_encoder_2.
        let text: CLIPTextConfig? = try FolderSummaryReader.optionalConfig(path, component: "text_encoder")
        let unet: UNetConfig = try DiffusersFolder.decodeJSON(root.appendingPathComponent("unet/config.json"))
        let _: VAEConfig = try DiffusersFolder.decodeJSON(root.appendingPathComponent("vae/config.json"))
        let scheduler: SchedulerConfig = try DiffusersFolder.decodeJSON(root.appendingPathComponent("scheduler/scheduler_config.json"))
        let summary = try FolderSummaryReader.summary(of: path, text: text, unet: unet)
        // The files loading would pick (no variant requested), headers only.
        var components = [("unet", "diffusion_pytorch_model", "diffusion_pytorch_model"),
                          ("vae", "diffusion_pytorch_model", "diffusion_pytorch_model")]
        if text != nil { components.insert(("text_encoder", "model", "pytorch_model"), at: 0) }
        if summary.hasTextEncoder2 { components.append(("text_encoder_2", "model", "pytorch_model")) }
        let weights = try components.map { folder, stem, legacy in
            try DiffusersFolder.openWeights(in: root.appendingPathComponent(folder), stem: stem, legacyStem: legacy, variant: nil).source
        }
        let family: any ModelFamily
        do {
            family = try ModelFamilies.recognise(folder: summary)
        } catch let error as NameMappingError {
            throw CheckpointError.unrecognised(path: path, reason: error.description)
        }
        let details = StableDiffusionDescription(family: family.id, predictionType: scheduler.predictionType,
                                                 unetInChannels: unet.inChannels)
        return ModelDescription(path: path, layout: .diffusers, dtypes: weights.flatMap { storedDTypes($0) },
                                details: .stableDiffusion(details))
    }

    private static func describeFile(_ path: String) throws -> ModelDescription {
        let file = try WeightFiles.open(path)
        let layout: ModelDescription.Layout = file is SafeTensorsFile ? .safetensors : .ckpt
        if T2IAdapterFiles.looksLikeAdapter(file.names) { return try describeAdapter(path, layout: layout) }
        if UpscalerModel.isUpscaler(file) {
            return try describeUpscaler(path, file: file, layout: layout, declaredFactor: 1, dtypes: storedDTypes(file))
        }
        let family: any ModelFamily
        let architecture: SingleFileArchitecture
        let sidecar = try InferenceConfigSidecar.beside(path)
        do {
            family = try ModelFamilies.recognise(singleFile: file)
            architecture = try family.architecture(
                of: file, conventions: sidecar.map { $0.conventions(over: family.conventions) } ?? family.conventions)
            if family.singleFileComponents.contains(.textEncoder), architecture.textEncoder == nil {
                throw CheckpointError.unrecognised(path: path, reason: "no text encoder (cond_stage_model.*) tensors")
            }
            if family.singleFileComponents.contains(.textEncoder2), architecture.textEncoder2 == nil {
                throw CheckpointError.unrecognised(path: path, reason: "no second text encoder (OpenCLIP bigG) tensors")
            }
            guard architecture.vae != nil else {
                throw CheckpointError.unrecognised(path: path, reason: "no VAE (first_stage_model.*) tensors")
            }
        } catch let error as NameMappingError {
            throw CheckpointError.unrecognised(path: path, reason: error.description)
        }
        // Names only: the strict mapping loading applies, so missing or stray tensors are reported here.
        var used: Set<String> = []
        for component in family.singleFileComponents {
            do {
                used.formUnion(try family.diffusersView(of: component, in: file).table.values.map(\.name))
            } catch let error as NameMappingError {
                throw CheckpointError.mapping(path: path, error: error)
            }
        }
        let details = StableDiffusionDescription(
            family: family.id, predictionType: PredictionRule.singleFile(sidecar: sidecar, family: family, checkpoint: file,
                                                       unetInChannels: architecture.unet.inChannels),
            unetInChannels: architecture.unet.inChannels)
        // The networks' weights only: buffers the mapping drops (CLIP's int64 position_ids, DDPM schedules,
        // model_ema.*) say nothing about the precision the model was saved in.
        return ModelDescription(path: path, layout: layout, dtypes: storedDTypes(file, only: used),
                                details: .stableDiffusion(details))
    }

    // MARK: Upscalers

    private static func describeNCNN(_ path: String) throws -> ModelDescription {
        let bin = (path as NSString).deletingPathExtension + ".bin"
        guard FileManager.default.fileExists(atPath: bin) else {
            throw UpscalerLoadError.missingCompanion(path: path, expected: bin)
        }
        // Parses the .param and walks the .bin's layout (storage tags), converting no weights.
        let model = try NCNNModel(paramPath: path, binPath: bin)
        let dtypes = model.weights.joined().map { $0.encoding == .float16 ? DType.f16 : DType.f32 }
        return try describeUpscaler(path, file: try model.pytorchNamed(), layout: .ncnn,
                                    declaredFactor: UpscalerModel.trailingResize(of: model), dtypes: dtypes)
    }

    private static func describeUpscaler(_ path: String, file: any TensorSource, layout: ModelDescription.Layout,
                                         declaredFactor: Double, dtypes: [DType]) throws -> ModelDescription {
        let (architecture, scale) = try UpscalerModel.architecture(of: file, path: path)
        let details = UpscalerDescription(architecture: architecture, networkScale: scale,
                                          scale: Double(scale) * declaredFactor)
        return ModelDescription(path: path, layout: layout, dtypes: dtypes, details: .upscaler(details))
    }

    // MARK: Stored types

    /// The element types of a file's tensors (all, or those named in `only`), as its header or tensor
    /// records state them.
    static func storedDTypes(_ source: any TensorSource, only: Set<String>? = nil) -> [DType] {
        let names = only.map { wanted in source.names.filter(wanted.contains) } ?? source.names
        switch source {
        case let file as SafeTensorsFile: return names.compactMap(file.dtype(of:))
        case let file as TorchCheckpoint: return names.compactMap(file.dtype(of:))
        default: return []
        }
    }
}
