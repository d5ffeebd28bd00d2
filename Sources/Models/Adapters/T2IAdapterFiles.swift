import Foundation
import Weights

/// Loads a T2I-Adapter from what users have: a diffusers folder (`config.json` + `diffusion_pytorch_model.safetensors`,
/// as TencentARC publishes the SDXL ones), or one file (`.safetensors`, or `.pth` through the restricted
/// unpickler) in diffusers names (with or without the `adapter.` prefix) or TencentARC's original names
/// (`conv_in`, flat `body.{level·blocks+j}.block1/in_conv` for the Adapter, `body.{level}.body.{j}` with
/// `in_conv`/`out_conv` for Adapter-Light), whose architecture is read from the tensor shapes.
public enum T2IAdapterFiles {
    public static func load(path: String) throws -> T2IAdapter {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        if isDirectory.boolValue {
            let config = try folderConfig(path)
            let candidates = ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
                              "diffusion_pytorch_model.bin"].map { path + "/" + $0 }
            guard let weights = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw CheckpointError.missingFile(path: path + "/diffusion_pytorch_model.safetensors")
            }
            return try build(config: config, source: try WeightFiles.open(weights), path: weights)
        }
        let file = try WeightFiles.open(path)
        let source = try diffusersNames(file, path: path)
        return try build(config: try inferConfig(source, path: path), source: source, path: path)
    }

    /// The architecture of the adapter at `path` from its config or tensor headers alone (`models.list`).
    public static func describe(path: String) throws -> (config: T2IAdapterConfig, dtypes: [DType]) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CheckpointError.notFound(path: path)
        }
        if isDirectory.boolValue {
            let config = try folderConfig(path)
            do { try config.validate() } catch {
                throw CheckpointError.invalidJSON(path: path + "/config.json", reason: "\(error)")
            }
            let weights = path + "/diffusion_pytorch_model.safetensors"
            let dtypes = (try? SafeTensorsFile(path: weights)).map { f in f.names.compactMap { f.dtype(of: $0) } } ?? []
            return (config, Array(Set(dtypes)))
        }
        let file = try WeightFiles.open(path)
        let config = try inferConfig(try diffusersNames(file, path: path), path: path)
        let dtypes = (file as? SafeTensorsFile).map { f in f.names.compactMap { f.dtype(of: $0) } } ?? []
        return (config, Array(Set(dtypes)))
    }

    /// A diffusers folder's `config.json`, decoded.
    static func folderConfig(_ path: String) throws -> T2IAdapterConfig {
        let configPath = path + "/config.json"
        guard let data = FileManager.default.contents(atPath: configPath) else { throw CheckpointError.missingFile(path: configPath) }
        do { return try JSONDecoder().decode(T2IAdapterConfig.self, from: data) } catch {
            throw CheckpointError.invalidJSON(path: configPath, reason: "\(error)")
        }
    }

    /// Whether a folder holds a diffusers T2I-Adapter (`config.json` of class T2IAdapter).
    public static func isAdapterFolder(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path + "/config.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["_class_name"] as? String == "T2IAdapter"
    }

    /// Whether tensor names are a T2I-Adapter's: diffusers' `adapter.*`, or TencentARC's `conv_in` / `body.*`
    /// with the adapters' own block names (`block1`, `in_conv`), which ESRGAN's `body.N.weight` never has.
    public static func looksLikeAdapter(_ names: [String]) -> Bool {
        guard !names.isEmpty else { return false }
        if names.allSatisfy({ $0.hasPrefix("adapter.") }) { return true }
        let block = #"^body\.\d+\.(body\.\d+\.)?(block1|in_conv)\.weight$"#
        return names.allSatisfy { $0.hasPrefix("body.") || $0.hasPrefix("conv_in.") }
            && names.contains { $0.range(of: block, options: .regularExpression) != nil }
    }

    static func build(config: T2IAdapterConfig, source: any TensorSource, path: String) throws -> T2IAdapter {
        do {
            return try T2IAdapter(config: config, weights: source)
        } catch let error as ModelLoadError {
            throw CheckpointError.component(name: "t2i_adapter", path: path, error: error)
        }
    }

    /// The file's tensors under diffusers' `adapter.`-prefixed names.
    static func diffusersNames(_ file: any TensorSource, path: String) throws -> any TensorSource {
        let names = file.names
        if names.allSatisfy({ $0.hasPrefix("adapter.") }) { return file }
        if names.contains(where: { $0.hasPrefix("body.") && $0.contains(".resnets.") }) {
            return RenamedSource(file, mapping: Dictionary(uniqueKeysWithValues: names.map { ("adapter." + $0, $0) }))
        }
        var mapping: [String: String] = [:]
        let light = names.contains { $0.range(of: #"^body\.\d+\.body\.\d+\."#, options: .regularExpression) != nil }
        if light {
            for name in names {
                let parts = name.split(separator: ".").map(String.init)
                if parts.count == 6, parts[0] == "body", parts[2] == "body" {
                    mapping["adapter.body.\(parts[1]).resnets.\(parts[3]).\(parts[4]).\(parts[5])"] = name
                } else {
                    mapping["adapter." + name] = name
                }
            }
        } else {
            // The Adapter's flat body: blocks per level from the first level's run of block1 tensors before the
            // next level's in_conv.
            let flat = names.compactMap { name -> Int? in
                let parts = name.split(separator: ".")
                return parts.count == 4 && parts[0] == "body" ? Int(parts[1]) : nil
            }
            guard let last = flat.max() else {
                throw CheckpointError.unrecognised(path: path, reason: "no T2I-Adapter tensors (adapter.*, conv_in, body.*)")
            }
            let firstInConv = (0 ... last).first { file.contains("body.\($0).in_conv.weight") }
            guard let blocks = firstInConv, blocks > 0, (last + 1) % blocks == 0 else {
                throw CheckpointError.unrecognised(path: path,
                    reason: "cannot tell the Adapter's blocks per level from its body (\(last + 1) blocks, the first in_conv at \(firstInConv.map(String.init) ?? "none"))")
            }
            for name in names {
                let parts = name.split(separator: ".").map(String.init)
                if parts.count == 4, parts[0] == "body", let index = Int(parts[1]) {
                    let (level, j) = (index / blocks, index % blocks)
                    mapping[parts[2] == "in_conv" ? "adapter.body.\(level).in_conv.\(parts[3])"
                                                  : "adapter.body.\(level).resnets.\(j).\(parts[2]).\(parts[3])"] = name
                } else {
                    mapping["adapter." + name] = name
                }
            }
        }
        return RenamedSource(file, mapping: mapping)
    }

    /// The architecture of diffusers-named tensors: light without `conv_in`; the input channels (1 or 3) and
    /// downscale factor from conv_in's (or the first in_conv's) input width, in·factor²; the SDXL variant by its
    /// factor 16 (its blocks have the full adapter's shapes; only where it downsamples differs).
    static func inferConfig(_ source: any TensorSource, path: String) throws -> T2IAdapterConfig {
        func fail(_ reason: String) -> CheckpointError { .unrecognised(path: path, reason: "not a T2I-Adapter: \(reason)") }
        let light = !source.contains("adapter.conv_in.weight")
        var levels = 0
        while source.contains("adapter.body.\(levels).resnets.0.block1.weight") { levels += 1 }
        guard levels > 0 else { throw fail("no adapter.body.0.resnets.0.block1.weight") }
        var blocks = 0
        while source.contains("adapter.body.0.resnets.\(blocks).block1.weight") { blocks += 1 }
        let first = light ? "adapter.body.0.in_conv.weight" : "adapter.conv_in.weight"
        guard let firstShape = source.shape(of: first), firstShape.count == 4 else { throw fail("no \(first)") }
        let unshuffled = firstShape[1]
        guard let (inChannels, factor) = [3, 1].lazy.compactMap({ c -> (Int, Int)? in
            guard unshuffled % c == 0 else { return nil }
            let f = Int(Double(unshuffled / c).squareRoot().rounded())
            return f * f * c == unshuffled ? (c, f) : nil
        }).first else { throw fail("\(first) takes \(unshuffled) channels, not 1 or 3 times a square") }
        var channels: [Int] = []
        for level in 0 ..< levels {
            let out = light ? "adapter.body.\(level).out_conv.weight" : "adapter.body.\(level).resnets.0.block1.weight"
            guard let shape = source.shape(of: out), shape.count == 4 else { throw fail("no \(out)") }
            channels.append(shape[0])
        }
        if light {
            // Adapter-Light repeats its last width in one extra level.
            guard levels >= 2, channels[levels - 1] == channels[levels - 2] else { throw fail("light adapter levels \(channels)") }
            channels.removeLast()
        }
        let kind: T2IAdapterConfig.Kind = light ? .light : (factor == 16 ? .fullXL : .full)
        return T2IAdapterConfig(inChannels: inChannels, channels: channels, numResBlocks: blocks, downscaleFactor: factor, kind: kind)
    }
}
