import Foundation
import Imaging
import Models
import Sampling
import Tensor

/// The one generation core every pipeline runs through: validation of what all runs share, the sampling
/// plan, the conditioning, the denoiser (the classifier-free-guidance batched UNet call with its timing and
/// the pipeline's input extensions), the shared sampling loop with cancellation, and the VAE decode.
/// Pipelines only prepare a `GenerationStart`: start latents, noise draws in their documented order, input
/// extensions and a blend.
public struct GenerationCore {
    public let model: LoadedModel
    public let conditioner: any Conditioner

    public init(model: LoadedModel, conditioner: (any Conditioner)? = nil) {
        self.model = model
        self.conditioner = conditioner ?? model.conditioner
    }

    /// Pixels per latent cell: 2^(VAE levels - 1) (8 for SD).
    public var vaeScaleFactor: Int { 1 << max(model.networks.vae.config.blockOutChannels.count - 1, 0) }

    /// The checks every run needs: size, batch, guidance and clip skip.
    public func validate(_ request: GenerationRequest) throws {
        let w = request.width, h = request.height
        let maxSide = StableDiffusionPipeline.maxSide
        guard w > 0, h > 0, w % 8 == 0, h % 8 == 0 else {
            throw EngineError.invalidSize(width: w, height: h, reason: "width and height must be positive multiples of 8")
        }
        guard w <= maxSide, h <= maxSide else {
            throw EngineError.invalidSize(width: w, height: h, reason: "sides are limited to \(maxSide) pixels")
        }
        guard w % vaeScaleFactor == 0, h % vaeScaleFactor == 0 else {
            throw EngineError.invalidSize(width: w, height: h, reason: "must be multiples of the VAE factor \(vaeScaleFactor)")
        }
        guard (1...64).contains(request.batchSize) else {
            throw EngineError.invalidParameter(field: "batch_size", reason: "must be in 1...64")
        }
        guard request.cfgScale.isFinite, request.cfgScale >= 0 else {
            throw EngineError.invalidParameter(field: "cfg_scale", reason: "must be a finite number >= 0")
        }
        guard (0...1).contains(request.guidanceRescale) else {
            throw EngineError.invalidParameter(field: "guidance_rescale", reason: "must be in [0, 1]")
        }
        try validateAdapters(request)
        let clipSkips = conditioner.clipSkipRange
        guard clipSkips.contains(request.clipSkip) else {
            throw EngineError.invalidParameter(field: "clip_skip",
                reason: "must be in \(clipSkips.lowerBound)...\(clipSkips.upperBound) for this model")
        }
        for control in request.controls { try ControlNetCompatibility.check(control, model: model) }
    }

    /// The sampling plan: txt2img's without `strength`, img2img's cut schedule with it (diffusers).
    public func plan(for request: GenerationRequest, strength: Double?) throws -> SamplingPlan {
        let config = model.networks.scheduler
        return try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: request.sampler.sampler,
                                schedule: request.sampler.schedule, steps: request.steps, strength: strength)
    }

    /// The latent shape [images, channels, H/f, W/f] of a request.
    public func latentShape(for request: GenerationRequest) -> [Int] {
        [request.batchSize, model.networks.vae.config.latentChannels, request.height / vaeScaleFactor,
         request.width / vaeScaleFactor]
    }

    /// The stages of a run: this model over `plan`, or, with a refiner, this model's part of `plan` up to the
    /// switch and the refiner's part after it. The refiner's part is cut from its own model's plan for the same
    /// request (diffusers: each pipeline sets its own scheduler's timesteps), equal to `plan`'s tail when the
    /// two models share a scheduler config.
    public func stages(for request: GenerationRequest, plan: SamplingPlan, strength: Double?,
                       refiner: RefinerHandoff?) throws -> [GenerationStage] {
        let whole = GenerationStage(model: model, conditioner: conditioner, plan: plan)
        guard let refiner else { return [whole] }
        do {
            let base = try plan.split(switchAt: refiner.switchAt).base
            let refinerPlan = try GenerationCore(model: refiner.model).plan(for: request, strength: strength)
            let tail = try refinerPlan.split(switchAt: refiner.switchAt).refiner
            return [GenerationStage(model: model, conditioner: conditioner, plan: base),
                    GenerationStage(model: refiner.model, conditioner: refiner.conditioner, plan: tail,
                                    aestheticScores: refiner.aestheticScores)]
        } catch SamplingError.invalidSwitch(let fraction) {
            throw EngineError.invalidParameter(field: "refiner.switch_at", reason: "must be in (0, 1), got \(fraction)")
        }
    }

    /// The checks a refiner needs besides the request's own: it continues this model's latents, so it must
    /// take the same latents (channels, VAE factor) with a UNet of the same inputs, and accept the clip skip.
    /// `plainRefinerAllowed`: a 9-channel inpainting base may hand off to a refiner taking plain latents
    /// (the inpaint pipeline blends the known region in that stage instead).
    public func validate(refiner: RefinerHandoff, for request: GenerationRequest, plainRefinerAllowed: Bool = false) throws {
        guard refiner.switchAt.isFinite, refiner.switchAt > 0, refiner.switchAt < 1 else {
            throw EngineError.invalidParameter(field: "refiner.switch_at", reason: "must be in (0, 1), got \(refiner.switchAt)")
        }
        let mine = model.networks, theirs = refiner.model.networks
        guard theirs.vae.config.latentChannels == mine.vae.config.latentChannels,
              GenerationCore(model: refiner.model).vaeScaleFactor == vaeScaleFactor else {
            throw EngineError.invalidParameter(field: "refiner.model",
                reason: "\(refiner.model.name)'s latents (\(theirs.vae.config.latentChannels) channels) differ from \(model.name)'s")
        }
        let plain = plainRefinerAllowed && theirs.unet.config.inChannels == theirs.vae.config.latentChannels
        guard plain || theirs.unet.config.inChannels == mine.unet.config.inChannels else {
            throw EngineError.invalidParameter(field: "refiner.model",
                reason: "\(refiner.model.name)'s UNet takes \(theirs.unet.config.inChannels) channels, \(model.name)'s \(mine.unet.config.inChannels)")
        }
        let clipSkips = (refiner.conditioner ?? refiner.model.conditioner).clipSkipRange
        guard clipSkips.contains(request.clipSkip) else {
            throw EngineError.invalidParameter(field: "clip_skip",
                reason: "must be in \(clipSkips.lowerBound)...\(clipSkips.upperBound) for the refiner \(refiner.model.name)")
        }
    }

    /// Samples `plan` from `start` on this model and decodes. `request` must have passed validation.
    public func run(_ request: GenerationRequest, plan: SamplingPlan, start: GenerationStart,
                    hooks: StableDiffusionPipeline.Hooks) throws -> GenerationResult {
        try run(request, stages: [GenerationStage(model: model, conditioner: conditioner, plan: plan)], start: start, hooks: hooks)
    }

    /// Runs `stages` one after the other from `start` (each on its model's conditioning and UNet, the latents
    /// handed on as they are, no noise added), and decodes with the last stage's VAE (diffusers decodes with
    /// the refiner pipeline's). Progress counts the steps of all stages; cancellation is checked before every
    /// step. The step index the blend hooks get is the first stage's plan's (the plan the pipeline built its
    /// blend on). Stages without steps are skipped, but the last one still decodes. Step noise (ancestral and
    /// SDE samplers) continues from `start.noise` across stages, as A1111; a DPM++ SDE Brownian tree is built
    /// per stage over the full schedule's sigma range with the run's seeds (`SamplingPlan.fullSigmas`, which
    /// slices keep), so both stages query the unsplit run's tree.
    public func run(_ request: GenerationRequest, stages: [GenerationStage], start: GenerationStart,
                    hooks: StableDiffusionPipeline.Hooks) throws -> GenerationResult {
        guard let first = stages.first, let last = stages.last else {
            throw EngineError.invalidParameter(field: "stages", reason: "a run needs at least one stage")
        }
        let guidance = ClassifierFreeGuidance(scale: request.cfgScale, rescale: request.guidanceRescale)
        let layout = GuidanceBatchLayout(images: request.batchSize, hasUnconditional: guidance.needsUnconditional)
        let totalSteps = stages.reduce(0) { $0 + $1.plan.steps }
        // The run's steps from the first stage's first to the last stage's last: ControlNets' start/end are
        // fractions of these, not of one stage's part (a refiner's Heun stage repeats the base's last step).
        let runSteps = last.plan.startIndex + last.plan.steps - first.plan.startIndex
        var unetSeconds = 0.0
        var x = start.latents
        // ControlNets come first: they see the latents before inpainting UNets' extra channels are appended.
        // They steer the base's stages only: a ControlNet is a copy of the base UNet's encoder, its residuals do
        // not fit a refiner's skips (A1111/Forge and ComfyUI run the refiner without it too).
        let control = try ControlNetHints.extension(for: request, unet: model.networks.unet.config)
        var stepsDone = 0
        let loopStarted = DispatchTime.now().uptimeNanoseconds
        var previousModel: LoadedModel?
        for (index, stage) in stages.enumerated() where stage.plan.steps > 0 {
            // Kept Winograd transforms are bounded per network: the base's would sit unused beside the refiner's.
            if let previousModel, previousModel !== stage.model { TransformedWeightBudget.dropKept() }
            previousModel = stage.model
            var conditioning = try stage.conditioner.conditioning(
                for: conditioningRequest(for: request, stage: stage, isFirstStage: index == 0, layout: layout)).unetConditioning
            if stage.model === model { conditioning.hypernetworks = request.hypernetworks }
            let unet = stage.model.networks.unet
            let extensions = ((control.map { [$0] } ?? []) + start.extensions).filter { $0.applies(to: unet.config) }
            let blend = Self.chained(start.blendApplies(unet.config) ? start.blend : nil, then: hooks.blend)
            let timesteps = stage.plan.timesteps
            let stepOffset = stage.plan.startIndex - first.plan.startIndex
            let denoiser = ModelDenoiser(parameterization: Parameterization(stage.plan.noiseSchedule.config.predictionType)) { input, t in
                let started = DispatchTime.now().uptimeNanoseconds
                defer { unetSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
                // Timesteps fall step by step; an evaluation between two of them belongs to the earlier step.
                let index = timesteps.lastIndex { $0 >= t } ?? 0
                var step = UNetStepInput(latents: layout.batched(input), timestep: Float(t), conditioning: conditioning,
                                         step: stepOffset + index, steps: runSteps)
                for addition in extensions { try addition.extend(&step, layout: layout) }
                let out = try unet.forward(latents: step.latents, timestep: step.timestep, conditioning: step.conditioning)
                let halves = layout.halves(out)
                guard let unconditional = halves.unconditional else { return halves.conditional }
                return try guidance.combine(unconditional: unconditional, conditional: halves.conditional)
            }
            let brownian: IntervalNoise? = stage.plan.sampler == .dpmppSDE
                ? BrownianTreeNoise(plan: stage.plan, shape: x.shape, seeds: request.seeds, rng: request.rng) : nil
            let progressOffset = stepsDone
            let stageBlend = blend.map { blend in { (x: Tensor, i: Int) in try blend(x, stepOffset + i) } }
            do {
                x = try Sampler.sample(
                    plan: stage.plan.leavingVE, x: x, noise: start.noise, eta: request.eta, brownian: brownian,
                    denoise: denoiser.function,
                    hooks: SamplingHooks(isCancelled: hooks.isCancelled,
                                         onStep: { p in try hooks.onStep(PipelineStep(step: progressOffset + p.step, steps: totalSteps,
                                                                                    denoised: p.denoised)) },
                                         blend: stageBlend))
            } catch SamplingError.cancelled(let step) {
                throw EngineError.cancelled(step: progressOffset + step)
            }
            stepsDone += stage.plan.steps
        }
        // The scaling the loop leaves with (VP samplers), once, after the last stage.
        let latents = last.plan.outputScale == 1 ? x : x * Float(last.plan.outputScale)
        let loopSeconds = Double(DispatchTime.now().uptimeNanoseconds - loopStarted) / 1e9

        // The UNet is done for this job: its kept Winograd transforms (up to 768 MB) and the cached activation
        // buffers (sizes the VAE does not use) would otherwise sit beside the decoder's full-size feature maps,
        // which set a 1024² SDXL job's peak. Bit-identical: only what is cached changes.
        TensorBufferCache.purge()
        let nets = last.model.networks
        let decoded = try Self.decodingWithoutBufferCache(large: latents.count >= Self.largeDecodeLatents) {
            try nets.vae.decode(Self.map(latents) { $0 / nets.latentScale })
        }
        let images = Self.map(decoded) { min(max($0 / 2 + 0.5, 0), 1) }
        return GenerationResult(latents: latents, images: images, decoded: decoded, seeds: request.seeds,
                                unetSeconds: unetSeconds, loopSeconds: loopSeconds)
    }

    /// What `stage`'s conditioner encodes. The hook for the SDXL refiner conditioner: `stage.aestheticScores`
    /// go into the request here once `ConditioningRequest` carries micro-conditioning (xl-cond).
    /// A stage's prompts and micro-conditioning: the request's, with a refiner stage's aesthetic scores; a stage
    /// after the first continues from latents as diffusers' img2img pipeline does (its time-id rules).
    func conditioningRequest(for request: GenerationRequest, stage: GenerationStage, isFirstStage: Bool,
                             layout: GuidanceBatchLayout) -> ConditioningRequest {
        conditioningRequest(for: request, aestheticScores: stage.aestheticScores, isFirstStage: isFirstStage, layout: layout)
    }

    func conditioningRequest(for request: GenerationRequest, aestheticScores: AestheticScores?, isFirstStage: Bool,
                             layout: GuidanceBatchLayout) -> ConditioningRequest {
        var micro = request.micro
        if let scores = aestheticScores {
            micro.aestheticScore = scores.positive
            micro.negativeAestheticScore = scores.negative
        }
        var conditioning = ConditioningRequest(
            prompt: request.prompt, negativePrompt: request.negativePrompt, clipSkip: request.clipSkip,
            batch: request.batchSize, withUnconditional: layout.hasUnconditional,
            prompt2: request.prompt2, negativePrompt2: request.negativePrompt2,
            outputSize: ImageSize(width: request.width, height: request.height), micro: micro,
            imageToImage: request.initImage != nil || !isFirstStage)
        conditioning.embeddings = request.embeddings
        return conditioning
    }

    /// How the request's prompts use its embeddings on this model (first stage), checking every width: the
    /// result's report, computed before the run so a wrong-width embedding fails before any work.
    public func embeddingUses(for request: GenerationRequest) throws -> [EmbeddingUse] {
        guard !request.embeddings.isEmpty else { return [] }
        let layout = GuidanceBatchLayout(images: request.batchSize,
                                         hasUnconditional: ClassifierFreeGuidance(scale: request.cfgScale, rescale: request.guidanceRescale).needsUnconditional)
        return try conditioner.embeddingUses(for: conditioningRequest(for: request, aestheticScores: nil, isFirstStage: true,
                                                                      layout: layout))
    }

    /// A sample of the VAE's posterior for `image`, repeated for a batch of `batch` (unscaled latent units).
    /// Draws from `noise` now: diffusers' img2img/inpaint draw this before any add_noise noise.
    public func posteriorSample(of image: Tensor, batch n: Int, noise: NoiseSource) throws -> Tensor {
        let (mean, logvar) = try model.networks.vae.encode(image)
        let std = Self.map(logvar * Float(0.5)) { expf($0) }
        let means = n == 1 ? mean : concat(Array(repeating: mean, count: n), axis: 0)
        let stds = n == 1 ? std : concat(Array(repeating: std, count: n), axis: 0)
        return means + stds * noise.randn(means.shape)
    }

    /// The posterior mean for `image`, repeated for a batch (unscaled latent units); draws nothing.
    public func posteriorMean(of image: Tensor, batch n: Int) throws -> Tensor {
        let (mean, _) = try model.networks.vae.encode(image)
        return n == 1 ? mean : concat(Array(repeating: mean, count: n), axis: 0)
    }

    /// Latent elements from which a decode's feature maps (hundreds of MB each at 1024²) are not kept for
    /// reuse: each is needed once or twice, and a cached one would sit beside the next, raising the peak.
    static let largeDecodeLatents = 4 * 96 * 96

    static func decodingWithoutBufferCache<T>(large: Bool, _ body: () throws -> T) rethrows -> T {
        guard large else { return try body() }
        let capacity = TensorBufferCache.capacityBytes
        TensorBufferCache.capacityBytes = 0
        defer { TensorBufferCache.capacityBytes = capacity }
        return try body()
    }

    /// The pipeline's blend, then the caller's.
    static func chained(_ first: ((Tensor, Int) throws -> Tensor)?,
                        then second: ((Tensor, Int) throws -> Tensor)?) -> ((Tensor, Int) throws -> Tensor)? {
        guard let first else { return second }
        guard let second else { return first }
        return { x, i in try second(try first(x, i), i) }
    }

    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        var out = x
        out.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = f(p[i]) }
        }
        return out
    }
}

extension GenerationCore {
    /// The checks one `control` entry needs against `model` before a run (see `ControlNetCompatibility`).
    public static func check(control: ControlNetInput, model: LoadedModel) throws {
        try ControlNetCompatibility.check(control, model: model)
    }
}
