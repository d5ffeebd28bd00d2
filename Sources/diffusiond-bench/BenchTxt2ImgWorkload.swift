import DiffusionProtocol
import Engine
import Sampling
import StrictJSON

/// A whole txt2img through the Engine's pipeline (text encoder, `steps` Euler steps with CFG, VAE decode to
/// [0, 1] pixels; no PNG encoding), against diffusers' StableDiffusionPipeline with EulerDiscreteScheduler.
/// Minutes per call, so one call per side and no warm-up (the networks are warm from the workloads before).
final class Txt2ImgWorkload: BenchWorkload {
    let imageSize: Int
    let steps: Int
    private var last: GenerationResult?
    private var totalSeconds: [Double] = []

    init(imageSize: Int, steps: Int) {
        self.imageSize = imageSize
        self.steps = steps
    }

    var name: String { "txt2img-\(imageSize)" }
    var title: String { "txt2img \(imageSize)×\(imageSize), \(steps) Euler steps, CFG 7.5 (batch 2 UNet calls), VAE decode" }
    var defaultRepeats: Int { 1 }
    var warmsUp: Bool { false }
    var torchRequest: [String: JSONValue]? {
        ["kind": "txt2img", "height": JSONValue(imageSize), "width": JSONValue(imageSize), "steps": JSONValue(steps),
         "cfg": 7.5, "sampler": "euler", "seed": 0, "prompt": .string(Self.prompt), "negative_prompt": .string(Self.negative)]
    }

    static let prompt = "a photograph of an astronaut riding a horse on the moon, highly detailed"
    static let negative = "blurry, low quality"

    func nominalFLOPs(_ context: BenchContext) throws -> Double? { nil }

    func prepare(_ context: BenchContext) throws {
        _ = try context.model()
    }

    func run(_ context: BenchContext) throws {
        var request = GenerationRequest(prompt: Self.prompt)
        request.negativePrompt = Self.negative
        request.sampler = SamplerChoice(sampler: .euler)
        request.steps = steps
        request.cfgScale = 7.5
        request.width = imageSize
        request.height = imageSize
        let start = BenchClock.now()
        last = try StableDiffusionPipeline(model: try context.model()).run(request)
        totalSeconds.append(BenchClock.seconds(since: start))
    }

    /// The loop's own cost (issue 4: ≤ 2% of its UNet calls): sampling-loop time minus the UNet calls in it.
    var notes: [String] {
        guard let last, last.unetSeconds > 0 else { return [] }
        let overhead = last.loopSeconds - last.unetSeconds
        return [String(format: "%@: sampling loop %.3f s, of which the denoiser (UNet calls with their CFG concat/split/combine) %.3f s; loop overhead %.4f s = %.3f%% of it (target ≤ 2%%)",
                       name, last.loopSeconds, last.unetSeconds, overhead, 100 * overhead / last.unetSeconds)]
    }
}
