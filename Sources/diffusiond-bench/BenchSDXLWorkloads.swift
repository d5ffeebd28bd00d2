import DiffusionProtocol
import Models
import StrictJSON
import Tensor

/// One SDXL UNet call on a CFG batch (unconditional + conditional) with its added conditioning: context
/// [2, 77, 2048], pooled text_embeds [2, 1280], the base's 6 time ids [2, 6] (sizes, crop 0, target).
final class SDXLUNetStepWorkload: BenchWorkload {
    let imageSize: Int
    let batch: Int
    let measuresPeakMemory: Bool
    private var inputs: (latents: Tensor, conditioning: UNetConditioning)?

    init(imageSize: Int, batch: Int, measuresPeakMemory: Bool = false) {
        self.imageSize = imageSize
        self.batch = batch
        self.measuresPeakMemory = measuresPeakMemory
    }

    var name: String { "sdxl-unet-\(imageSize)" }
    var title: String { "SDXL UNet step, batch \(batch) (CFG), \(imageSize)×\(imageSize) (latent \(imageSize / 8)²)" }
    var defaultRepeats: Int { 3 }
    var targetRatio: Double? { 0.75 }
    var torchRequest: [String: JSONValue]? {
        ["kind": "unet", "batch": JSONValue(batch), "height": JSONValue(imageSize), "width": JSONValue(imageSize)]
    }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? {
        try BenchFLOPs.unet(try context.models().unet.config, batch: batch, height: imageSize / 8, width: imageSize / 8)
    }

    func prepare(_ context: BenchContext) throws {
        let unet = try context.models().unet
        let config = unet.config
        guard let added = unet.textTimeEmbedding else {
            throw BenchError.missingNetwork(workload: name, network: "a text_time UNet")
        }
        let crossDim = try config.crossAttentionDim.expanded(to: config.blockOutChannels.count,
                                                             field: "cross_attention_dim")[0]
        // The base's 6 ids; the pooled width is what the rest of add_embedding's input leaves.
        let timeIDs = 6
        let pooledWidth = added.inputWidth - timeIDs * added.timeIDWidth
        guard pooledWidth > 0 else { throw BenchError.missingNetwork(workload: name, network: "6 time ids (a base UNet)") }
        let size = Float(imageSize)
        let ids = Tensor(shape: [batch, timeIDs],
                         values: Array(repeating: [size, size, 0, 0, size, size], count: batch).flatMap { $0 })
        let latent = imageSize / 8
        inputs = (BenchInputs.tensor([batch, config.inChannels, latent, latent], seed: 1),
                  UNetConditioning(context: BenchInputs.tensor([batch, 77, crossDim], seed: 2),
                                   added: AddedConditioning(textEmbeds: BenchInputs.tensor([batch, pooledWidth], seed: 7),
                                                            timeIDs: ids)))
    }

    func run(_ context: BenchContext) throws {
        guard let inputs else { throw BenchError.notPrepared(name) }
        _ = try context.models().unet.forward(latents: inputs.latents, timestep: 500, conditioning: inputs.conditioning)
    }

    func release() { inputs = nil }
}

/// Both SDXL text encoders on `batch` × 77 token ids, as the conditioner runs them: CLIP-L up to the
/// penultimate layer's raw states, bigG through every layer for its projected pooled output (diffusers'
/// encode_prompt runs all of CLIP-L's 12 layers too; the FLOP count is that nominal graph).
final class SDXLTextEncodersWorkload: BenchWorkload {
    let batch: Int
    private var ids: [[Int32]]?

    init(batch: Int) { self.batch = batch }

    var name: String { "sdxl-text-encoders" }
    var title: String { "SDXL text encoders (CLIP-L + bigG with pooled projection), batch \(batch) × 77 tokens" }
    var defaultRepeats: Int { 5 }
    var targetRatio: Double? { 1.0 }
    var torchRequest: [String: JSONValue]? { ["kind": "text", "batch": JSONValue(batch)] }

    private func encoders(_ context: BenchContext) throws -> (first: CLIPTextEncoder, second: CLIPTextEncoder) {
        let models = try context.models()
        guard let first = models.textEncoder(.textEncoder)?.encoder else {
            throw BenchError.missingNetwork(workload: name, network: "text_encoder")
        }
        guard let second = models.textEncoder(.textEncoder2)?.encoder else {
            throw BenchError.missingNetwork(workload: name, network: "text_encoder_2")
        }
        return (first, second)
    }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? {
        let (first, second) = try encoders(context)
        return BenchFLOPs.textEncoder(first.config, batch: batch)
            + BenchFLOPs.textEncoder(second.config, batch: batch, pooledProjection: true)
    }

    func prepare(_ context: BenchContext) throws {
        let (first, second) = try encoders(context)
        ids = BenchInputs.tokenIDs(batch: batch, length: 77, vocabulary: min(first.config.vocabSize, second.config.vocabSize),
                                   seed: 4)
    }

    func run(_ context: BenchContext) throws {
        guard let ids else { throw BenchError.notPrepared(name) }
        let (first, second) = try encoders(context)
        _ = try first.encode(ids: ids, states: .raw(layer: first.layersToRun - 1), pooled: false)
        _ = try second.encode(ids: ids, states: .raw(layer: second.layersToRun - 1), pooled: true)
    }

    func release() { ids = nil }
}
