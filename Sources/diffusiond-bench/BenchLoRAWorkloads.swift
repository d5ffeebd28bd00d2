import DiffusionProtocol
import Engine
import Foundation
import Models
import StrictJSON
import Tensor
import Weights

/// A kohya LoCon of a given rank over the model's UNet attention projections, feed-forwards, proj_in/out,
/// resnet 3×3 convolutions and time projections, and the text encoders' projections and MLPs (SD1 kohya
/// names: `lora_unet_`/`lora_te_` + the diffusers path with `_`), written once to `<folder>/bench.safetensors`.
/// Values are small deterministic numbers; the cost of a merge does not depend on them.
enum BenchLoRAFile {
    static let name = "bench"

    static func write(for networks: StableDiffusionModels, rank: Int, to folder: String) throws {
        guard let weights = networks.weights else { throw BenchError.missingNetwork(workload: "lora", network: "recorded weights") }
        var writer = SafeTensorsWriter()
        var seed: UInt64 = 100
        func add(prefix: String, _ component: ComponentWeights, leaves: [String]) throws {
            for name in component.names where name.hasSuffix(".weight") {
                let module = String(name.dropLast(".weight".count))
                guard leaves.contains(where: { module.hasSuffix($0) }), let shape = component.shape(of: name), shape.count >= 2 else { continue }
                let key = prefix + module.replacingOccurrences(of: ".", with: "_")
                let downShape = [rank, shape[1]] + shape.dropFirst(2)
                let upShape = shape.count == 4 ? [shape[0], rank, 1, 1] : [shape[0], rank]
                seed += 2
                let (downSeed, upSeed) = (seed, seed + 1)
                try writer.add(key + ".lora_down.weight", shape: downShape) { BenchInputs.tensor(downShape, seed: downSeed) * 0.01 }
                try writer.add(key + ".lora_up.weight", shape: upShape) { BenchInputs.tensor(upShape, seed: upSeed) * 0.01 }
                try writer.add(key + ".alpha", Tensor(shape: [], values: [Float(rank) / 2]))
            }
        }
        try add(prefix: "lora_unet_", weights.unet, leaves: ["to_q", "to_k", "to_v", "to_out.0", "ff.net.0.proj", "ff.net.2",
                                                              "proj_in", "proj_out", "conv1", "conv2", "time_emb_proj"])
        for (slot, component) in weights.textEncoders {
            try add(prefix: slot == .textEncoder ? "lora_te_" : "lora_te2_", component,
                    leaves: ["q_proj", "k_proj", "v_proj", "out_proj", "fc1", "fc2"])
        }
        try writer.write(to: (folder as NSString).appendingPathComponent(name + ".safetensors"))
    }

    /// One folder per workload, removed on release or, since the alternating order never releases, when the
    /// process exits.
    static func temporaryFolder(for workload: String) throws -> String {
        let path = NSTemporaryDirectory() + "diffusiond-bench-\(workload)-\(getpid())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if created.isEmpty { atexit { BenchLoRAFile.removeCreated() } }
        created.append(path)
        return path
    }

    /// The bench is single-threaded where workloads prepare and release.
    nonisolated(unsafe) private static var created: [String] = []

    static func removeCreated() {
        for path in created { try? FileManager.default.removeItem(atPath: path) }
        created = []
    }
}

/// What the LoRA workloads prepare and release alike: the bench LoCon written to a folder of the workload's
/// own, and the base model's patched-set cache, emptied on release so the patched copies are freed.
struct BenchLoRASetup {
    let folder: String
    let cache: LoRAPatchCache

    init(workload: String, rank: Int, context: BenchContext) throws {
        folder = try BenchLoRAFile.temporaryFolder(for: workload)
        try BenchLoRAFile.write(for: try context.models(), rank: rank, to: folder)
        cache = try context.model().loraCache
    }

    /// The bench LoCon at `weight` on the base model.
    func apply(weight: Double, _ context: BenchContext) throws -> LoRAPatchedModel {
        try context.model().applying([LoRARequest(name: BenchLoRAFile.name, weight: weight, field: "loras[0]")],
                                     directory: LoRADirectory(path: folder))
    }

    func release() {
        try? FileManager.default.removeItem(atPath: folder)
        cache.clear()
    }
}

/// First use of a LoRA: read the file, match every module, merge into copies of the touched tensors and build
/// the patched networks (the cache is cleared before each call). The issue's target: ≤ 1 s at rank 32 on
/// SD 1.5-size weights. No warm-up: the first timed call is the first use in a fresh process (fresh pages for
/// every copy, base weights not yet read), the later ones reuse what the earlier ones freed; each call's
/// phases are listed in the notes.
final class LoRAApplyWorkload: BenchWorkload {
    let rank: Int
    private var setup: BenchLoRASetup?
    /// Each call's phases and the bytes it patched.
    private var calls: [(timings: LoRAApplyTimings, patchedBytes: Int)] = []

    init(rank: Int = 32) { self.rank = rank }

    var name: String { "lora-apply" }
    var title: String { "apply a rank-\(rank) kohya LoCon (attention, feed-forward, resnet 3×3 convs, text encoder) on first use" }
    var warmsUp: Bool { false }
    var torchRequest: [String: JSONValue]? { nil }
    var notes: [String] {
        calls.enumerated().map { index, call in
            "lora-apply call \(index + 1)\(index == 0 ? " (first use in this process)" : ""): \(call.timings); patched "
                + call.patchedBytes.gigabytes
        }
    }
    func nominalFLOPs(_ context: BenchContext) throws -> Double? { nil }

    func prepare(_ context: BenchContext) throws {
        setup = try BenchLoRASetup(workload: name, rank: rank, context: context)
    }

    func run(_ context: BenchContext) throws {
        guard let setup else { throw BenchError.notPrepared(name) }
        let model = try context.model()
        model.loraCache.clear()
        let applied = try setup.apply(weight: 0.8, context)
        if let timings = applied.timings {
            calls.append((timings, applied.patchedBytes))
        }
        // Free the patched copies now: the alternating order keeps workloads until the end, and the later
        // workloads' memory readings should not carry this one's set.
        model.loraCache.clear()
    }

    func release() {
        setup?.release()
        setup = nil
    }
}

/// The next request while a set is kept, one call after another (the warm-up applies the first set):
/// - `lora-reuse`: the same set, so the patched networks come from the cache (target: 0 s);
/// - `lora-switch`: another set (the same file at another weight) each call, so the merge replaces the kept set,
///   filling the memory its copies held (`TensorArena.recycling`) instead of fresh pages.
final class LoRANextRequestWorkload: BenchWorkload {
    let rank: Int
    let switchesSet: Bool
    private var setup: BenchLoRASetup?
    private var calls = 0

    init(rank: Int = 32, switchesSet: Bool) {
        self.rank = rank
        self.switchesSet = switchesSet
    }

    var name: String { switchesSet ? "lora-switch" : "lora-reuse" }
    var title: String {
        switchesSet ? "another weight of the rank-\(rank) LoCon in the next request (replaces the kept set)"
            : "the same rank-\(rank) LoCon again in the next request (cached patched networks)"
    }
    var defaultRepeats: Int { switchesSet ? 3 : 5 }
    var torchRequest: [String: JSONValue]? { nil }
    func nominalFLOPs(_ context: BenchContext) throws -> Double? { nil }

    func prepare(_ context: BenchContext) throws {
        let setup = try BenchLoRASetup(workload: name, rank: rank, context: context)
        setup.cache.clear()
        self.setup = setup
    }

    func run(_ context: BenchContext) throws {
        guard let setup else { throw BenchError.notPrepared(name) }
        calls += 1
        _ = try setup.apply(weight: switchesSet && calls % 2 == 1 ? 0.6 : 0.8, context)
    }

    func release() {
        setup?.release()
        setup = nil
    }
}

/// One UNet step (batch 2, 256²) on the LoRA-patched UNet, against PyTorch's plain step: the patched network
/// has the same shapes and kernels, so the issue asks for the same speed as without.
final class LoRAUNetStepWorkload: BenchWorkload {
    let imageSize = 256
    let rank: Int
    private var prepared: (unet: UNet, latents: Tensor, context: Tensor)?
    private var setup: BenchLoRASetup?

    init(rank: Int = 32) { self.rank = rank }

    var name: String { "unet-256-lora" }
    var title: String { "UNet step, batch 2 (CFG), 256², with the rank-\(rank) LoCon merged" }
    var targetRatio: Double? { 0.75 }
    var torchRequest: [String: JSONValue]? { ["kind": "unet", "batch": 2, "height": JSONValue(imageSize), "width": JSONValue(imageSize)] }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? {
        try BenchFLOPs.unet(try context.models().unet.config, batch: 2, height: imageSize / 8, width: imageSize / 8)
    }

    func prepare(_ context: BenchContext) throws {
        let setup = try BenchLoRASetup(workload: name, rank: rank, context: context)
        self.setup = setup
        let adapted = try setup.apply(weight: 0.8, context)
        let unet = adapted.model.networks.unet
        guard unet.textTimeEmbedding == nil else { throw BenchError.missingNetwork(workload: name, network: "an SD 1.x/2.x UNet") }
        let crossDim = try unet.config.crossAttentionDim.expanded(to: unet.config.blockOutChannels.count, field: "cross_attention_dim")[0]
        prepared = (unet, BenchInputs.guidanceBatch([2, unet.config.inChannels, imageSize / 8, imageSize / 8], seed: 1),
                    BenchInputs.tensor([2, 77, crossDim], seed: 2))
    }

    func run(_ context: BenchContext) throws {
        guard let prepared else { throw BenchError.notPrepared(name) }
        _ = try prepared.unet.forward(latents: prepared.latents, timestep: 500, context: prepared.context)
    }

    func release() {
        prepared = nil
        setup?.release()
        setup = nil
    }
}
