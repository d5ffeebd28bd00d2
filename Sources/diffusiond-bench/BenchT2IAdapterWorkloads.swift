import DiffusionProtocol
import Foundation
import Models
import StrictJSON
import Tensor
import Weights

/// The T2I-Adapter cost (a full SD 1.5 adapter, diffusers' `T2IAdapter(adapter_type="full_adapter")`
/// with the UNet's block widths, 2 res blocks, pixel-unshuffle 8): the features of one 512² picture, which a job
/// computes once (`t2i-adapter-<size>`), and one UNet step with them added inside the down blocks
/// (`t2i-adapter-unet-<size>`, against `unet-<size>`). `T2IAdapterJobShare` turns the three into the share of a
/// 20-step job the adapter adds (target: under 2%).
enum BenchT2IAdapter {
    /// The adapter for `unet`: one level per down block, the UNet's widths, deterministic weights (their values do
    /// not change the compute).
    static func adapter(for unet: UNetConfig) throws -> T2IAdapter {
        let config = T2IAdapterConfig(inChannels: 3, channels: unet.blockOutChannels, numResBlocks: 2, downscaleFactor: 8,
                                      kind: .full)
        return try T2IAdapter(config: config, weights: SyntheticWeights(shapes: fullAdapterShapes(config)))
    }

    /// diffusers' tensor names and shapes of a full (non-light, non-XL) adapter.
    static func fullAdapterShapes(_ config: T2IAdapterConfig) -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        func conv(_ name: String, _ output: Int, _ input: Int, _ kernel: Int) {
            shapes["adapter.\(name).weight"] = [output, input, kernel, kernel]
            shapes["adapter.\(name).bias"] = [output]
        }
        let f = config.downscaleFactor
        conv("conv_in", config.channels[0], config.inChannels * f * f, 3)
        for i in 0 ..< config.levelCount {
            let level = config.level(i)
            if level.input != level.output { conv("body.\(i).in_conv", level.output, level.input, 1) }
            for j in 0 ..< config.numResBlocks {
                conv("body.\(i).resnets.\(j).block1", level.output, level.output, 3)
                conv("body.\(i).resnets.\(j).block2", level.output, level.output, 1)
            }
        }
        return shapes
    }

    static func picture(size: Int) -> Tensor {
        BenchInputs.tensor([1, 3, size, size], seed: 11) * 0.25 + 0.5
    }
}

/// Weights of given names and shapes with deterministic values scaled by 1/√fan-in (keeps activations O(1)).
struct SyntheticWeights: TensorSource {
    let shapes: [String: [Int]]
    var names: [String] { shapes.keys.sorted() }
    func shape(of name: String) -> [Int]? { shapes[name] }
    func tensor(_ name: String) throws -> Tensor {
        guard let shape = shapes[name] else { throw WeightsError.missingTensor(tensor: name) }
        let fanIn = shape.dropFirst().reduce(1, *)
        let seed = UInt64(name.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) } & 0xFFFF)
        return BenchInputs.tensor(shape, seed: seed) * (1 / Float(max(fanIn, 1)).squareRoot())
    }
}

/// The adapter's features of one picture: what a job computes once, before its first step.
final class T2IAdapterFeaturesWorkload: BenchWorkload {
    let imageSize: Int
    private var state: (adapter: T2IAdapter, picture: Tensor)?

    init(imageSize: Int) { self.imageSize = imageSize }

    var name: String { "t2i-adapter-\(imageSize)" }
    var title: String { "T2I-Adapter (full, SD 1.5 widths) features of one \(imageSize)² picture, once per job" }
    var defaultRepeats: Int { 5 }
    var torchRequest: [String: JSONValue]? {
        ["kind": "t2i_adapter", "height": JSONValue(imageSize), "width": JSONValue(imageSize)]
    }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? { nil }

    func prepare(_ context: BenchContext) throws {
        state = (try BenchT2IAdapter.adapter(for: try context.models().unet.config), BenchT2IAdapter.picture(size: imageSize))
    }

    func run(_ context: BenchContext) throws {
        guard let state else { throw BenchError.notPrepared(name) }
        _ = try state.adapter.features(state.picture)
    }

    func release() { state = nil }
}

/// One UNet step, batch 2 (CFG), with the adapter's features added inside the down blocks (computed in prepare,
/// as a job does once); compare with `unet-<size>`.
final class T2IAdapterStepWorkload: BenchWorkload {
    let imageSize: Int
    let batch: Int
    private var state: (latents: Tensor, conditioning: UNetConditioning)?

    init(imageSize: Int, batch: Int) {
        self.imageSize = imageSize
        self.batch = batch
    }

    var name: String { "t2i-adapter-unet-\(imageSize)" }
    var title: String { "UNet step with T2I-Adapter features, batch \(batch) (CFG), \(imageSize)×\(imageSize)" }
    var defaultRepeats: Int { 3 }
    var torchRequest: [String: JSONValue]? {
        ["kind": "unet_t2i_adapter", "batch": JSONValue(batch), "height": JSONValue(imageSize), "width": JSONValue(imageSize)]
    }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? { nil }

    func prepare(_ context: BenchContext) throws {
        let unet = try context.models().unet
        guard unet.textTimeEmbedding == nil else {
            throw BenchError.missingNetwork(workload: name, network: "an SD 1.x/2.x UNet (the full adapter's levels)")
        }
        let features = try BenchT2IAdapter.adapter(for: unet.config).features(BenchT2IAdapter.picture(size: imageSize))
        var conditioning = UNetConditioning(context: BenchInputs.tensor([batch, 77, unet.contextDim], seed: 2))
        conditioning.adapterFeatures = features.map { concat(Array(repeating: $0, count: batch), axis: 0) }
        let latent = imageSize / 8
        state = (BenchInputs.guidanceBatch([batch, unet.config.inChannels, latent, latent], seed: 1), conditioning)
    }

    func run(_ context: BenchContext) throws {
        guard let state else { throw BenchError.notPrepared(name) }
        _ = try context.models().unet.forward(latents: state.latents, timestep: 500, conditioning: state.conditioning)
    }

    func release() { state = nil }
}

/// What a T2I-Adapter adds to a 20-step job, from the medians of `t2i-adapter-<size>`, `t2i-adapter-unet-<size>`
/// and `unet-<size>`: (features once + 20 × (step with features − plain step)) / (20 × plain step), per side.
/// The job's text encoding and VAE decode are left out of the denominator, so the share is an upper bound.
enum T2IAdapterJobShare {
    static let steps = 20

    static func notes(rows: [BenchRow], imageSize: Int = 512) -> [String] {
        func row(_ name: String) -> BenchRow? { rows.first { $0.name == name } }
        guard let features = row("t2i-adapter-\(imageSize)"), let with = row("t2i-adapter-unet-\(imageSize)"),
              let plain = row("unet-\(imageSize)") else { return [] }
        func share(_ f: Double, _ w: Double, _ p: Double) -> Double { (f + Double(steps) * (w - p)) / (Double(steps) * p) }
        var line = String(format: "T2I-Adapter in a %d-step %d² job (target < 2%%): ours %.2f%% (features %.3f s once, step %+.3f s)",
                          steps, imageSize, 100 * share(features.oursMedian, with.oursMedian, plain.oursMedian),
                          features.oursMedian, with.oursMedian - plain.oursMedian)
        if let f = features.torchMedian, let w = with.torchMedian, let p = plain.torchMedian {
            line += String(format: "; PyTorch %.2f%% (features %.3f s, step %+.3f s)", 100 * share(f, w, p), f, w - p)
        }
        return [line]
    }
}
