import DiffusionProtocol
import Models
import StrictJSON
import Tensor

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
