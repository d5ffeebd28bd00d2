import Foundation
import Models
import Weights

/// What a model's files say about it without loading it, for `models.list`, remembered per file stamp so a
/// listing re-reads only files that changed.
public final class ModelDescriber: @unchecked Sendable {
    public struct Description: Sendable, Equatable {
        /// What the files are, when they could be read.
        public var kind: ModelKind?
        public var details: [String: String]
        public var problem: String?
        public init(kind: ModelKind? = nil, details: [String: String] = [:], problem: String? = nil) {
            self.kind = kind
            self.details = details
            self.problem = problem
        }
    }

    /// What the files at `path` are: the probe decides the kind from their content.
    public typealias Probe = (_ path: String) -> Description

    private let probe: Probe
    private let controlNetProbe: Probe
    private let lock = NSLock()
    private var memo: [String: (stamp: FileStamp?, description: Description)] = [:]
    private var controlNetMemo: [String: (stamp: FileStamp?, description: Description)] = [:]

    public init(probe: @escaping Probe = ModelDescriber.headers,
                controlNetProbe: @escaping Probe = ModelDescriber.controlNetHeaders) {
        self.probe = probe
        self.controlNetProbe = controlNetProbe
    }

    public func describe(path: String) -> Description {
        describe(path: path, with: probe)
    }

    /// `path` described by `probe` instead of the checkpoint probe (the files of `loras/`).
    public func describe(path: String, with probe: Probe) -> Description {
        let stamp = FileStamp(path: path)
        if let hit = lock.withLock({ memo[path] }), hit.stamp == stamp { return hit.description }
        let description = probe(path)
        lock.withLock { memo[path] = (stamp, description) }
        return description
    }

    /// A LoRA / LyCORIS file from its tensor names and shapes (no data read): the family its shapes say, its
    /// type, how many modules it adapts and its size on disk.
    public static func loraHeaders(path: String) -> Description {
        let source: any TensorSource
        do {
            switch (path as NSString).pathExtension.lowercased() {
            case "safetensors": source = try SafeTensorsFile(path: path)
            default: source = try TorchCheckpoint(path: path)
            }
        } catch {
            return Description(kind: .lora, problem: String(describing: error))
        }
        let header = LoRAHeader(source: source)
        var details = ["lora_type": header.type.rawValue, "modules": String(header.modules), "family": header.family?.rawValue ?? "unknown"]
        if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber {
            details["file_bytes"] = size.stringValue
        }
        guard header.modules > 0 else {
            return Description(kind: .lora, details: details, problem: "no LoRA or LyCORIS tensors")
        }
        return Description(kind: .lora, details: details)
    }

    /// A file under `controlnet/`: the folder decides the kind, so it is read as a ControlNet (its own memo: the
    /// same path is never a checkpoint too).
    public func describeControlNet(path: String) -> Description {
        let stamp = FileStamp(path: path)
        if let hit = lock.withLock({ controlNetMemo[path] }), hit.stamp == stamp { return hit.description }
        let description = controlNetProbe(path)
        lock.withLock { controlNetMemo[path] = (stamp, description) }
        return description
    }

    /// `ControlNetFiles.open`: the config (folders) or the tensor names and shapes (single files), no tensor data.
    public static func controlNetHeaders(path: String) -> Description {
        do {
            let file = try ControlNetFiles.open(path: path)
            var details = ControlNetVariant.details(family: file.family, config: file.config, layout: file.layout)
            details["dtypes"] = file.dtypes.map(\.rawValue).joined(separator: ",")
            return Description(kind: .controlnet, details: details)
        } catch {
            return Description(problem: String(describing: error))
        }
    }

    /// `ModelProbe`: headers and configs only, the same detection rules as loading; a file it cannot read is
    /// described by the error loading would give.
    public static func headers(path: String) -> Description {
        let d: ModelDescription
        do { d = try ModelProbe.describe(path: path) } catch {
            return Description(problem: String(describing: error))
        }
        var details = ["dtypes": d.dtypes.map(\.rawValue).joined(separator: ",")]
        if let sd = d.stableDiffusion {
            details["family"] = sd.family.rawValue
            details["prediction"] = sd.predictionType.rawValue
            details["inpainting"] = sd.isInpainting ? "true" : "false"
            details["unet_in_channels"] = String(sd.unetInChannels)
        }
        if let up = d.upscaler {
            details["architecture"] = up.architecture
            details["scale"] = String(up.scale)
            details["network_scale"] = String(up.networkScale)
        }
        if let adapter = d.t2iAdapter {
            details["family"] = adapter.family
            details["adapter_type"] = adapter.variant
            details["hint_channels"] = String(adapter.inChannels)
            details["downscale"] = String(adapter.downscaleFactor)
        }
        let kind: ModelKind
        switch d.kind {
        case .stableDiffusion: kind = .stableDiffusion
        case .upscaler: kind = .upscaler
        case .t2iAdapter: kind = .t2iAdapter
        }
        return Description(kind: kind, details: details)
    }
}
