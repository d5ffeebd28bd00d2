import Foundation
import Models
import StrictJSON
import Tensor

/// One SD 1.x/2.x UNet step (batch 2, CFG) in bf16, timed; its notes put the bf16 step beside an fp32 step of
/// the same inputs (timed once, untimed by the harness) and the bf16 prediction's relative L2 error against our
/// fp32 one. PyTorch's bf16 error is measured by `scripts/fixtures/make_bf16_accuracy_fixture.py` on the tiny model
/// (the torch worker has no bf16 mode), so the side-by-side here is ours only.
final class UNetBF16StepWorkload: BenchWorkload {
    let imageSize: Int
    private var inputs: (latents: Tensor, conditioning: UNetConditioning)?
    private var fp32: (prediction: Tensor, seconds: Double)?
    private var bf16Prediction: Tensor?
    private var bf16Seconds = Double.infinity

    init(imageSize: Int) { self.imageSize = imageSize }

    var name: String { "unet-bf16-\(imageSize)" }
    var title: String { "UNet step in bf16, batch 2 (CFG), \(imageSize)×\(imageSize): against our fp32 step" }
    var defaultRepeats: Int { imageSize >= 512 ? 2 : 3 }
    var torchRequest: [String: JSONValue]? { nil }

    func nominalFLOPs(_ context: BenchContext) throws -> Double? {
        try BenchFLOPs.unet(try context.models().unet.config, batch: 2, height: imageSize / 8, width: imageSize / 8)
    }

    func prepare(_ context: BenchContext) throws {
        let unet = try context.models().unet
        guard unet.textTimeEmbedding == nil else {
            throw BenchError.missingNetwork(workload: name, network: "an SD 1.x/2.x UNet (SDXL's added conditioning is not set up here)")
        }
        let config = unet.config
        let crossDim = try config.crossAttentionDim.expanded(to: config.blockOutChannels.count, field: "cross_attention_dim")[0]
        let latents = BenchInputs.tensor([2, config.inChannels, imageSize / 8, imageSize / 8], seed: 1)
        let conditioning = UNetConditioning(context: BenchInputs.tensor([2, 77, crossDim], seed: 2))
        inputs = (latents, conditioning)
        let start = Date()
        let prediction = try unet.forward(latents: latents, timestep: 500, conditioning: conditioning)
        fp32 = (prediction, Date().timeIntervalSince(start))
    }

    func run(_ context: BenchContext) throws {
        guard let inputs else { throw BenchError.notPrepared(name) }
        let unet = try context.models().unet
        let start = Date()
        bf16Prediction = try ComputePrecision.$current.withValue(.bf16) {
            try unet.forward(latents: inputs.latents, timestep: 500, conditioning: inputs.conditioning)
        }
        bf16Seconds = min(bf16Seconds, Date().timeIntervalSince(start))
    }

    var notes: [String] {
        guard let fp32, let bf16Prediction else { return [] }
        var difference = 0.0, norm = 0.0
        for (a, e) in zip(bf16Prediction.scalars, fp32.prediction.scalars) {
            difference += (Double(a) - Double(e)) * (Double(a) - Double(e))
            norm += Double(e) * Double(e)
        }
        let error = norm > 0 ? (difference / norm).squareRoot() : 0
        return [String(format: "%@: bf16 step %.3f s, fp32 step %.3f s (bf16/fp32 %.2f×); bf16 vs fp32 relative L2 %.4f "
                       + "(PyTorch's own on the tiny SD1 UNet: see Tests/Fixtures/sd/sd1/bf16_accuracy.json)",
                       name, bf16Seconds, fp32.seconds, bf16Seconds / fp32.seconds, error)]
    }

    func release() {
        inputs = nil
        fp32 = nil
        bf16Prediction = nil
    }
}
