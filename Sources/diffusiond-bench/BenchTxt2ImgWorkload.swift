import DiffusionProtocol
import Engine
import Sampling
import StrictJSON

/// A whole txt2img through the Engine's pipeline (text encoder(s), `steps` Euler steps with CFG, VAE decode to
/// [0, 1] pixels; no PNG encoding), against diffusers' StableDiffusionPipeline (SDXL: StableDiffusionXLPipeline)
/// with EulerDiscreteScheduler. Minutes per call, so one call per side and no warm-up (the networks are warm
/// from the workloads before).
final class Txt2ImgWorkload: BenchWorkload {
    let imageSize: Int
    let steps: Int
    let namePrefix: String
    let cfg: Double
    let measuresPeakMemory: Bool
    private var last: GenerationResult?
    private var totalSeconds: [Double] = []
    /// (loop, UNet) seconds of the last run, kept when `release()` drops the result.
    private var summary: (Double, Double)?

    init(imageSize: Int, steps: Int, namePrefix: String = "", cfg: Double = 7.5, measuresPeakMemory: Bool = false) {
        self.imageSize = imageSize
        self.steps = steps
        self.namePrefix = namePrefix
        self.cfg = cfg
        self.measuresPeakMemory = measuresPeakMemory
    }

    var name: String { "\(namePrefix)txt2img-\(imageSize)" }
    var title: String {
        "txt2img \(imageSize)×\(imageSize), \(steps) Euler steps, CFG \(cfg) (batch 2 UNet calls), VAE decode"
    }
    var defaultRepeats: Int { 1 }
    var warmsUp: Bool { false }
    var torchRequest: [String: JSONValue]? {
        ["kind": "txt2img", "height": JSONValue(imageSize), "width": JSONValue(imageSize), "steps": JSONValue(steps),
         "cfg": .double(cfg), "sampler": "euler", "seed": 0, "prompt": .string(Self.prompt), "negative_prompt": .string(Self.negative)]
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
        request.cfgScale = cfg
        request.width = imageSize
        request.height = imageSize
        let start = BenchClock.now()
        last = try StableDiffusionPipeline(model: try context.model()).run(request)
        totalSeconds.append(BenchClock.seconds(since: start))
    }

    /// Keeps the notes' numbers, drops the images.
    func release() {
        if let result = last { summary = (result.loopSeconds, result.unetSeconds) }
        last = nil
    }

    /// The loop's own cost (issue 4: ≤ 2% of its UNet calls): sampling-loop time minus the UNet calls in it.
    var notes: [String] {
        guard let (loop, unet) = last.map({ ($0.loopSeconds, $0.unetSeconds) }) ?? summary, unet > 0 else { return [] }
        let overhead = loop - unet
        return [String(format: "%@: sampling loop %.3f s, of which the denoiser (UNet calls with their CFG concat/split/combine) %.3f s; loop overhead %.4f s = %.3f%% of it (target ≤ 2%%)",
                       name, loop, unet, overhead, 100 * overhead / unet)]
    }
}
