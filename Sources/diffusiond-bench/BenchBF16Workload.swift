import Foundation
import Models
import StrictJSON
import Tensor

/// One SD 1.x/2.x UNet step (batch 2, CFG) in bf16, timed; its notes put the bf16 step beside an fp32 step of
/// the same inputs (timed once, untimed by the harness) and, side by side, the relative L2 error of the noise
/// prediction against fp32: ours against PyTorch's fp32 and against our own, and PyTorch's own bf16 (autocast and
/// bf16 weights) against its fp32, with PyTorch's times of those calls. The worker builds the same inputs
/// (`bench_tensor` in scripts/bench/torch_worker.py is `BenchInputs.tensor` value for value).
final class UNetBF16StepWorkload: BenchWorkload {
    let imageSize: Int
    private var inputs: (latents: Tensor, conditioning: UNetConditioning)?
    private var fp32: (prediction: Tensor, seconds: Double)?
    private var fp32Seconds: Double?
    /// Kept past `release` (a few hundred KB): the sequential order frees ours before PyTorch answers.
    private var bf16Prediction: [Float]?
    private var ownError: Double?
    private var bf16Seconds = Double.infinity
    private var torch: (againstTorchFP32: Double, autocast: Double, bf16Weights: Double, seconds: [String: Double])?

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
        fp32Seconds = fp32?.seconds
    }

    func run(_ context: BenchContext) throws {
        guard let inputs, let fp32 else { throw BenchError.notPrepared(name) }
        let unet = try context.models().unet
        let start = Date()
        let prediction = try ComputePrecision.$current.withValue(.bf16) {
            try unet.forward(latents: inputs.latents, timestep: 500, conditioning: inputs.conditioning)
        }
        bf16Seconds = min(bf16Seconds, Date().timeIntervalSince(start))
        bf16Prediction = prediction.scalars
        ownError = Self.relativeL2(prediction.scalars, fp32.prediction.scalars)
    }

    func compare(with worker: BenchTorchWorker) throws {
        guard let bf16Prediction else { return }
        let answer = try worker.ask(["op": "bf16_error", "batch": 2, "height": JSONValue(imageSize), "width": JSONValue(imageSize)])
        let reference = answer["fp32"]?.arrayValue?.compactMap { $0.doubleValue.map(Float.init) } ?? []
        let errors = answer["relative_l2"]?.objectValue ?? [:]
        guard reference.count == bf16Prediction.count, let autocast = errors["autocast"]?.doubleValue,
              let weights = errors["bf16_weights"]?.doubleValue else {
            throw BenchTorchError.badAnswer(request: "bf16_error", answer: "\(reference.count) of \(bf16Prediction.count) values, \(errors)")
        }
        let seconds = (answer["seconds"]?.objectValue ?? [:]).compactMapValues(\.doubleValue)
        torch = (Self.relativeL2(bf16Prediction, reference), autocast, weights, seconds)
    }

    /// ||a - b||₂ / ||b||₂ in float64 (the measure of the accuracy tests and the fixture script).
    static func relativeL2(_ actual: [Float], _ expected: [Float]) -> Double {
        var difference = 0.0, norm = 0.0
        for (a, e) in zip(actual, expected) {
            difference += (Double(a) - Double(e)) * (Double(a) - Double(e))
            norm += Double(e) * Double(e)
        }
        return norm > 0 ? (difference / norm).squareRoot() : 0
    }

    var notes: [String] {
        guard let fp32Seconds, let ownError else { return [] }
        let times = String(format: "%@: bf16 step %.3f s, fp32 step %.3f s (bf16/fp32 %.2f×)",
                           name, bf16Seconds, fp32Seconds, bf16Seconds / fp32Seconds)
        guard let torch else {
            return [times + String(format: "; bf16 vs our fp32 relative L2 %.4f (no PyTorch side: its own bf16 error "
                                   + "on the tiny SD1 UNet is in Tests/Fixtures/sd/sd1/bf16_accuracy.json)", ownError)]
        }
        let s = torch.seconds
        return [times,
                String(format: "%@: relative L2 of the noise prediction against fp32 — ours %.4f vs PyTorch's fp32 "
                       + "(%.4f vs our fp32) | PyTorch's own: autocast %.4f, bf16 weights %.4f (best %.4f; ours/best %.2f)",
                       name, torch.againstTorchFP32, ownError, torch.autocast, torch.bf16Weights,
                       min(torch.autocast, torch.bf16Weights), torch.againstTorchFP32 / min(torch.autocast, torch.bf16Weights)),
                String(format: "%@: PyTorch's times of those calls: fp32 %.3f s, autocast %.3f s, bf16 weights %.3f s "
                       + "(ours bf16/PyTorch's best bf16 %.2f×)",
                       name, s["fp32"] ?? .nan, s["autocast"] ?? .nan, s["bf16_weights"] ?? .nan,
                       bf16Seconds / min(s["autocast"] ?? .infinity, s["bf16_weights"] ?? .infinity))]
    }

    func release() {
        inputs = nil
        fp32 = nil
    }
}
