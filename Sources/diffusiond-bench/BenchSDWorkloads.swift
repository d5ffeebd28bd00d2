import DiffusionProtocol
import Models
import StrictJSON
import Tensor

/// Deterministic inputs of a given shape. Values do not change the compute; they only need to be ordinary
/// finite numbers of unit scale (no denormals, no NaN), like real latents and embeddings.
enum BenchInputs {
    static func tensor(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        let count = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            // xorshift64*, then a sum of two uniforms in [-1, 1) (a triangular, roughly unit-scale value).
            var sum: Float = 0
            for _ in 0..<2 {
                state ^= state >> 12
                state ^= state << 25
                state ^= state >> 27
                sum += Float((state &* 0x2545_F491_4F6C_DD1D) >> 40) / Float(1 << 24) * 2 - 1
            }
            values[i] = sum
        }
        return Tensor(shape: shape, values: values)
    }

    /// A guidance batch's rows as the core lays them out: the same per-image values in both halves (the
    /// unconditional and the conditional pass see the same latents and control image); `tensor` for an odd batch.
    static func guidanceBatch(_ shape: [Int], seed: UInt64) -> Tensor {
        guard let batch = shape.first, batch >= 2, batch % 2 == 0 else { return tensor(shape, seed: seed) }
        let half = tensor([batch / 2] + shape.dropFirst(), seed: seed)
        return concat([half, half], axis: 0)
    }

    static func tokenIDs(batch: Int, length: Int, vocabulary: Int, seed: UInt64) -> [[Int32]] {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<batch).map { _ in
            (0..<length).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int32(truncatingIfNeeded: (state >> 33) % UInt64(max(vocabulary - 2, 1)))
            }
        }
    }
}

/// One UNet call on a batch of 2 (classifier-free guidance: conditional + unconditional) at one image size. An SDXL
/// UNet (`text_time`) also gets its added conditioning: pooled text_embeds and the base's 6 time ids (sizes, crop 0,
/// target), so both suites time the same call the pipelines make.
final class UNetStepWorkload: BenchWorkload {
    let imageSize: Int
    let batch: Int
    /// The bench records the peak resident memory of this workload's first timed call.
    let measuresPeakMemory: Bool
    /// "sdxl-" for the SDXL suite's (names and titles only; the inputs follow the loaded UNet).
    let namePrefix: String
    private var inputs: (latents: Tensor, conditioning: UNetConditioning)?

    init(imageSize: Int, batch: Int, measuresPeakMemory: Bool = false, namePrefix: String = "") {
        self.imageSize = imageSize
        self.batch = batch
        self.measuresPeakMemory = measuresPeakMemory
        self.namePrefix = namePrefix
    }

    var name: String { "\(namePrefix)unet-\(imageSize)" }
    var title: String {
        "\(namePrefix.isEmpty ? "" : "SDXL ")UNet step, batch \(batch) (CFG), \(imageSize)×\(imageSize) (latent \(imageSize / 8)²)"
    }
    var defaultRepeats: Int { imageSize >= 512 ? 3 : 5 }
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
        let latent = imageSize / 8
        let crossDim = try config.crossAttentionDim.expanded(to: config.blockOutChannels.count,
                                                             field: "cross_attention_dim")[0]
        let context = BenchInputs.tensor([batch, 77, crossDim], seed: 2)
        var added: AddedConditioning?
        if let embedding = unet.textTimeEmbedding {
            // The base's 6 ids; the pooled width is what the rest of add_embedding's input leaves.
            let timeIDs = 6
            let pooledWidth = embedding.inputWidth - timeIDs * embedding.timeIDWidth
            guard pooledWidth > 0 else { throw BenchError.missingNetwork(workload: name, network: "6 time ids (a base UNet)") }
            let size = Float(imageSize)
            let ids = Tensor(shape: [batch, timeIDs],
                             values: Array(repeating: [size, size, 0, 0, size, size], count: batch).flatMap { $0 })
            added = AddedConditioning(textEmbeds: BenchInputs.tensor([batch, pooledWidth], seed: 7), timeIDs: ids)
        }
        inputs = (BenchInputs.guidanceBatch([batch, config.inChannels, latent, latent], seed: 1),
                  UNetConditioning(context: context, added: added))
    }

    func run(_ context: BenchContext) throws {
        guard let inputs else { throw BenchError.notPrepared(name) }
        _ = try context.models().unet.forward(latents: inputs.latents, timestep: 500, conditioning: inputs.conditioning)
    }

    func release() { inputs = nil }
}

/// AutoencoderKL.decode of one latent to an image of `imageSize`².
final class VAEDecodeWorkload: BenchWorkload {
    let imageSize: Int
    /// "sdxl-" for the SDXL suite's (same network shape, SDXL's VAE weights and target).
    let namePrefix: String
    let targetRatio: Double?
    private var latents: Tensor?

    init(imageSize: Int, namePrefix: String = "", targetRatio: Double = 1.2) {
        self.imageSize = imageSize
        self.namePrefix = namePrefix
        self.targetRatio = targetRatio
    }

    var name: String { "\(namePrefix)vae-decode-\(imageSize)" }
    var title: String { "VAE decode, batch 1, \(imageSize)×\(imageSize)" }
    var torchRequest: [String: JSONValue]? {
        ["kind": "vae_decode", "batch": 1, "height": JSONValue(imageSize), "width": JSONValue(imageSize)]
    }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? {
        BenchFLOPs.vaeDecode(try context.models().vae.config, batch: 1, height: imageSize / 8, width: imageSize / 8)
    }

    func prepare(_ context: BenchContext) throws {
        let config = try context.models().vae.config
        latents = BenchInputs.tensor([1, config.latentChannels, imageSize / 8, imageSize / 8], seed: 3)
    }

    func run(_ context: BenchContext) throws {
        guard let latents else { throw BenchError.notPrepared(name) }
        _ = try context.models().vae.decode(latents)
    }

    func release() { latents = nil }
}

/// The CLIP text encoder on `batch` × 77 token ids (prompt + negative prompt for CFG).
final class TextEncoderWorkload: BenchWorkload {
    let batch: Int
    private var ids: [[Int32]]?

    init(batch: Int) { self.batch = batch }

    var name: String { "text-encoder" }
    var title: String { "CLIP text encoder, batch \(batch) × 77 tokens" }
    var defaultRepeats: Int { 10 }
    var targetRatio: Double? { 1.0 }
    var torchRequest: [String: JSONValue]? { ["kind": "text", "batch": JSONValue(batch)] }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? {
        BenchFLOPs.textEncoder(try context.models().textEncoder.config, batch: batch)
    }

    func prepare(_ context: BenchContext) throws {
        let config = try context.models().textEncoder.config
        ids = BenchInputs.tokenIDs(batch: batch, length: 77, vocabulary: config.vocabSize, seed: 4)
    }

    func run(_ context: BenchContext) throws {
        guard let ids else { throw BenchError.notPrepared(name) }
        _ = try context.models().textEncoder.encode(ids: ids)
    }

    func release() { ids = nil }
}

enum BenchError: Error, CustomStringConvertible {
    case notPrepared(String)
    case unknownWorkload(String, known: [String])
    case missingNetwork(workload: String, network: String)

    var description: String {
        switch self {
        case let .notPrepared(name): return "workload \(name) ran before prepare()"
        case let .unknownWorkload(name, known): return "unknown workload \(name); known: \(known.joined(separator: ", "))"
        case let .missingNetwork(workload, network): return "workload \(workload) needs a model with \(network) (an SDXL base)"
        }
    }
}
