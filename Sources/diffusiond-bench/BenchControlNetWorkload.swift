import DiffusionProtocol
import Foundation
import Models
import StrictJSON
import Tensor
import Weights

/// One UNet step with one ControlNet of the UNet's own size (SD 1.5's: the encoder copy, the 16/32/96/256 hint
/// block, a zero convolution per skip), batch 2 in the CFG layout: the ControlNet's residuals, then the UNet with
/// them. On the PyTorch side `ControlNetModel.from_unet` on the same UNet. The ControlNet is built like diffusers'
/// `from_unet`: the encoder tensors are the UNet's own (the same mapped file), the hint block and the zero
/// convolutions get deterministic values (they do not change the compute). Our step takes the hint embedded once,
/// as a job does (diffusers' pipelines remake it at every step, so PyTorch's side includes it). Compare with
/// `unet-<size>`: the ControlNet should add about its FLOP share (the encoder half, ~35% of the UNet's).
final class ControlNetStepWorkload: BenchWorkload {
    let imageSize: Int
    let batch: Int
    private var state: (controlNet: ControlNet, latents: Tensor, hint: Tensor, conditioning: UNetConditioning)?

    init(imageSize: Int, batch: Int) {
        self.imageSize = imageSize
        self.batch = batch
    }

    var name: String { "controlnet-unet-\(imageSize)" }
    var title: String { "ControlNet + UNet step, batch \(batch) (CFG), \(imageSize)×\(imageSize)" }
    var defaultRepeats: Int { 3 }
    var torchRequest: [String: JSONValue]? {
        ["kind": "unet_controlnet", "batch": JSONValue(batch), "height": JSONValue(imageSize), "width": JSONValue(imageSize)]
    }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? { nil }

    func prepare(_ context: BenchContext) throws {
        let unet = try context.models().unet
        let unetWeights = try Self.unetWeights(in: context.modelPath, workload: name)
        var config = ControlNetConfig()
        config.unet = unet.config
        let controlNet = try ControlNet(config: config, weights: FromUNetWeights(unet: unetWeights, config: config))
        let latent = imageSize / 8
        let contextTensor = BenchInputs.tensor([batch, 77, unet.contextDim], seed: 2)
        var added: AddedConditioning?
        if let embedding = unet.textTimeEmbedding {
            let pooled = embedding.inputWidth - 6 * embedding.timeIDWidth
            let size = Float(imageSize)
            added = AddedConditioning(textEmbeds: BenchInputs.tensor([batch, pooled], seed: 7),
                                      timeIDs: Tensor(shape: [batch, 6], values: Array(repeating: [size, size, 0, 0, size, size],
                                                                                      count: batch).flatMap { $0 }))
        }
        // A control image in [0, 1].
        // A job embeds each control image once (the hint block depends on the image only), so a step does not.
        let hint = try controlNet.embedHint(BenchInputs.guidanceBatch([batch, 3, imageSize, imageSize], seed: 9) * 0.25 + 0.5)
        state = (controlNet, BenchInputs.guidanceBatch([batch, unet.config.inChannels, latent, latent], seed: 1), hint,
                 UNetConditioning(context: contextTensor, added: added))
    }

    func run(_ context: BenchContext) throws {
        guard let state else { throw BenchError.notPrepared(name) }
        var conditioning = state.conditioning
        conditioning.control = try state.controlNet(latents: state.latents, timestep: 500, conditioning: conditioning,
                                                    embeddedHint: state.hint, scale: 1, guessMode: false)
        _ = try context.models().unet.forward(latents: state.latents, timestep: 500, conditioning: conditioning)
    }

    func release() { state = nil }

    /// The UNet's weights file of a diffusers folder (the bench's models are folders).
    static func unetWeights(in folder: String, workload: String) throws -> TensorSource {
        for file in ["diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors"] {
            let path = (folder as NSString).appendingPathComponent("unet/" + file)
            if FileManager.default.fileExists(atPath: path) { return try SafeTensorsFile(path: path) }
        }
        throw BenchError.missingNetwork(workload: workload, network: "a diffusers folder with unet/diffusion_pytorch_model.safetensors")
    }
}

/// diffusers' `ControlNetModel.from_unet` as weights: the UNet's encoder tensors under their own names, and the
/// hint block and projections (zero at diffusers' init) as small deterministic values of their shapes.
struct FromUNetWeights: TensorSource {
    let unet: TensorSource
    let extra: [String: [Int]]
    let names: [String]
    static let encoderPrefixes = ["conv_in.", "time_embedding.", "add_embedding.", "down_blocks.", "mid_block."]

    init(unet: TensorSource, config: ControlNetConfig) {
        self.unet = unet
        let channels = config.unet.blockOutChannels
        let hint = config.conditioningEmbeddingOutChannels
        var extra: [String: [Int]] = [:]
        func conv(_ name: String, _ output: Int, _ input: Int, _ kernel: Int) {
            extra[name + ".weight"] = [output, input, kernel, kernel]
            extra[name + ".bias"] = [output]
        }
        conv("controlnet_cond_embedding.conv_in", hint[0], config.conditioningChannels, 3)
        for i in 0..<(hint.count - 1) {
            conv("controlnet_cond_embedding.blocks.\(2 * i)", hint[i], hint[i], 3)
            conv("controlnet_cond_embedding.blocks.\(2 * i + 1)", hint[i + 1], hint[i], 3)
        }
        conv("controlnet_cond_embedding.conv_out", channels[0], hint[hint.count - 1], 3)
        let layers = (try? config.unet.layersPerBlock.expanded(to: channels.count, field: "")) ?? []
        var widths = [channels[0]]
        for (level, c) in channels.enumerated() {
            widths += Array(repeating: c, count: (layers.indices.contains(level) ? layers[level] : 0)
                            + (level == channels.count - 1 ? 0 : 1))
        }
        for (k, width) in widths.enumerated() { conv("controlnet_down_blocks.\(k)", width, width, 1) }
        conv("controlnet_mid_block", channels[channels.count - 1], channels[channels.count - 1], 1)
        self.extra = extra
        names = (unet.names.filter { name in Self.encoderPrefixes.contains { name.hasPrefix($0) } } + extra.keys).sorted()
    }

    func shape(of name: String) -> [Int]? {
        if let shape = extra[name] { return shape }
        return Self.encoderPrefixes.contains { name.hasPrefix($0) } ? unet.shape(of: name) : nil
    }

    func tensor(_ name: String) throws -> Tensor {
        guard let shape = extra[name] else { return try unet.tensor(name) }
        return BenchInputs.tensor(shape, seed: UInt64(name.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) } & 0xFFFF)) * 0.01
    }
}
