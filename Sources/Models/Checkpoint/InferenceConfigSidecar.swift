import Foundation
import Weights

/// The original LDM / sgm inference config users keep beside a single file (`model.yaml` next to
/// `model.safetensors`, as A1111 and ComfyUI read it), honoured for what tensors cannot tell:
/// - prediction type: LDM's `model.params.parameterization: "v"`, or sgm's denoiser scaling
///   (`VScaling` / `VScalingWithEDMcNoise` mean v; `EpsScaling` epsilon); a config saying neither means epsilon;
/// - the latent scale `model.params.scale_factor`;
/// - UNet heads from `unet_config` (LDM) or `network_config` (sgm) params: `num_head_channels` (a width per
///   head) unless it is -1, else `num_heads` (a fixed count);
/// - group-norm groups: LDM hard-codes 32, so only an explicit `norm_num_groups` (or `num_groups`) in the UNet
///   params or the VAE's `ddconfig` changes them;
/// - text encoder heads: `num_attention_heads` (or `heads`) in an embedder's params; the standard archs
///   (ViT-L/14, ViT-H-14, ViT-bigG-14) all use 64-channel heads, the family default.
/// An SDXL `conditioner_config` names its towers by class: `FrozenCLIPEmbedder` is the first (CLIP-L),
/// `FrozenOpenCLIPEmbedder2` the second (bigG, also the refiner's only one).
public struct InferenceConfigSidecar: Equatable, Sendable {
    public var predictionType: PredictionType
    public var scaleFactor: Double?
    public var unetHeads: AttentionHeadRule?
    public var unetNormGroups: Int?
    public var vaeNormGroups: Int?
    public var textHeads: Int?
    public var secondTextHeads: Int?

    /// The sidecar of the single file at `path` (`<name>.yaml`, or `.yml`); nil when there is none.
    public static func beside(_ path: String) throws(CheckpointError) -> InferenceConfigSidecar? {
        let stem = (path as NSString).deletingPathExtension
        for candidate in [stem + ".yaml", stem + ".yml"] {
            guard let data = FileManager.default.contents(atPath: candidate) else { continue }
            guard let text = String(data: data, encoding: .utf8) else {
                throw CheckpointError.unreadable(path: candidate, reason: "not UTF-8 text")
            }
            do {
                return try InferenceConfigSidecar(yaml: try YAMLNode.parse(text), path: candidate)
            } catch let error as YAMLSubsetError {
                throw CheckpointError.unreadable(path: candidate, reason: "not a readable inference config: \(error)")
            } catch let error as CheckpointError {
                throw error
            } catch {
                throw CheckpointError.unreadable(path: candidate, reason: "\(error)")
            }
        }
        return nil
    }

    public init(yaml: YAMLNode, path: String) throws(CheckpointError) {
        func bad(_ key: String, _ node: YAMLNode) -> CheckpointError {
            .unsupportedConfig(path: path, reason: "\(key) must be a number, found \(node.string ?? "a collection")")
        }
        func int(_ node: YAMLNode?, _ key: String) throws(CheckpointError) -> Int? {
            guard let node else { return nil }
            guard let value = node.int else { throw bad(key, node) }
            return value
        }
        func positive(_ node: YAMLNode?, _ key: String) throws(CheckpointError) -> Int? {
            guard let value = try int(node, key) else { return nil }
            guard value > 0 else {
                throw CheckpointError.unsupportedConfig(path: path, reason: "\(key) must be positive, found \(value)")
            }
            return value
        }
        let params = yaml.at("model", "params")
        predictionType = Self.predictionType(params, root: yaml)
        if let node = params?["scale_factor"] {
            guard let value = node.double, value > 0 else { throw bad("model.params.scale_factor", node) }
            scaleFactor = value
        }
        let unet = params?.at("network_config", "params") ?? params?.at("unet_config", "params")
        let headChannels = try int(unet?["num_head_channels"], "num_head_channels")
        let headCount = try int(unet?["num_heads"], "num_heads")
        if let width = headChannels, width != -1 {
            guard width > 0 else {
                throw CheckpointError.unsupportedConfig(path: path, reason: "num_head_channels must be positive or -1, found \(width)")
            }
            unetHeads = .channelsPerHead(width)
        } else if let count = headCount, count != -1 {
            guard count > 0 else {
                throw CheckpointError.unsupportedConfig(path: path, reason: "num_heads must be positive or -1, found \(count)")
            }
            unetHeads = .count(count)
        }
        unetNormGroups = try positive(unet?["norm_num_groups"] ?? unet?["num_groups"], "norm_num_groups")
        let ddconfig = params?.at("first_stage_config", "params", "ddconfig")
        vaeNormGroups = try positive(ddconfig?["norm_num_groups"] ?? ddconfig?["num_groups"], "ddconfig.norm_num_groups")

        func heads(_ embedder: YAMLNode?) throws(CheckpointError) -> Int? {
            let p = embedder?["params"]
            return try positive(p?["num_attention_heads"] ?? p?["heads"], "num_attention_heads")
        }
        if let models = params?.at("conditioner_config", "params", "emb_models")?.items {
            for model in models {
                let target = model["target"]?.string ?? ""
                if target.hasSuffix("FrozenOpenCLIPEmbedder2") || target.hasSuffix("FrozenOpenCLIPEmbedder") {
                    secondTextHeads = try heads(model)
                } else if target.hasSuffix("FrozenCLIPEmbedder") {
                    textHeads = try heads(model)
                }
            }
        } else {
            textHeads = try heads(params?["cond_stage_config"])
        }
    }

    /// `base` with what this config says put over it.
    public func conventions(over base: SingleFileConventions) -> SingleFileConventions {
        var out = base
        if let scaleFactor { out.vaeScalingFactor = scaleFactor }
        if let unetHeads { out.unetHeads = unetHeads }
        if let unetNormGroups { out.unetNormGroups = unetNormGroups }
        if let vaeNormGroups { out.vaeNormGroups = vaeNormGroups }
        if let textHeads { out.textHeads = .count(textHeads) }
        if let secondTextHeads { out.secondTextHeads = .count(secondTextHeads) }
        return out
    }

    /// `root` is the whole document: hand-written sidecars sometimes carry `parameterization` outside
    /// `model.params`, and A1111's earlier line scan accepted that, so a key anywhere still counts.
    private static func predictionType(_ params: YAMLNode?, root: YAMLNode) -> PredictionType {
        if let p = params?["parameterization"]?.string ?? root.first(key: "parameterization")?.string {
            return p == "v" ? .vPrediction : .epsilon
        }
        let scaling = params?.at("denoiser_config", "params", "scaling_config", "target")?.string ?? ""
        let last = scaling.split(separator: ".").last.map(String.init) ?? ""
        return last.hasPrefix("VScaling") ? .vPrediction : .epsilon
    }
}
