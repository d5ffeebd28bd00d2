import Foundation
import Models
import Sampling
import Tensor

/// txt2img and img2img on one resident model, step for step what diffusers' StableDiffusionPipeline and
/// StableDiffusionImg2ImgPipeline compute (same noise draws, same schedule, same guidance), driven by the
/// one sampling loop of the Sampling module.
///
/// Batches: image i uses its own generator seeded with `seed + i` (A1111's convention; in diffusers a list
/// of generators), so image i of a batch equals a single-image run with seed + i (for the deterministic
/// samplers; ancestral ones too, because each image draws its step noise from its own generator).
/// Classifier-free guidance runs the UNet once per step on a batch of 2N: unconditional then conditional,
/// as diffusers. With `cfgScale` <= 1 the unconditional pass is skipped (diffusers' rule).
public struct StableDiffusionPipeline {
    public let model: LoadedModel

    public init(model: LoadedModel) {
        self.model = model
    }

    /// Largest width/height accepted (A1111's limit); bounds the VAE's activation memory per request.
    public static let maxSide = 2048

    /// Pixels per latent cell: 2^(VAE levels - 1) (8 for SD).
    public var vaeScaleFactor: Int { 1 << max(model.networks.vae.config.blockOutChannels.count - 1, 0) }

    /// Hooks of one run: cancellation (checked before every step), per-step reports, and an optional
    /// latent blend (inpainting; passed to the shared loop unchanged).
    public struct Hooks {
        public var isCancelled: () -> Bool
        public var onStep: (PipelineStep) throws -> Void
        public var blend: ((Tensor, Int) throws -> Tensor)?

        public init(isCancelled: @escaping () -> Bool = { false }, onStep: @escaping (PipelineStep) throws -> Void = { _ in },
                    blend: ((Tensor, Int) throws -> Tensor)? = nil) {
            self.isCancelled = isCancelled
            self.onStep = onStep
            self.blend = blend
        }
    }

    public func validate(_ request: GenerationRequest) throws {
        let w = request.width, h = request.height
        guard w > 0, h > 0, w % 8 == 0, h % 8 == 0 else {
            throw EngineError.invalidSize(width: w, height: h, reason: "width and height must be positive multiples of 8")
        }
        guard w <= Self.maxSide, h <= Self.maxSide else {
            throw EngineError.invalidSize(width: w, height: h, reason: "sides are limited to \(Self.maxSide) pixels")
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
        guard request.clipSkip >= 1, request.clipSkip <= model.networks.textEncoder.layersToRun else {
            throw EngineError.invalidParameter(field: "clip_skip",
                reason: "must be in 1...\(model.networks.textEncoder.layersToRun) for this model")
        }
        if let image = request.initImage {
            guard image.shape == [1, 3, h, w] else {
                throw EngineError.invalidParameter(field: "image", reason: "expected a [1, 3, \(h), \(w)] tensor, got \(image.shape)")
            }
            guard request.strength > 0, request.strength <= 1 else {
                throw EngineError.invalidParameter(field: "strength", reason: "must be in (0, 1]")
            }
            // diffusers runs int(steps * strength) steps; zero steps would return the input unchanged.
            guard request.sampler.sampler == .lcm || Int(Double(request.steps) * request.strength) >= 1 else {
                throw EngineError.invalidParameter(field: "strength",
                    reason: "\(request.strength) of \(request.steps) steps runs no step; raise strength or steps")
            }
        }
        guard model.networks.unet.config.inChannels == model.networks.vae.config.latentChannels else {
            throw EngineError.unsupportedModel(name: model.name,
                reason: "its UNet takes \(model.networks.unet.config.inChannels) channels (an inpainting model); use inpaint")
        }
    }

    /// The sampling plan of a request (also what progress reporting counts steps with).
    public func plan(for request: GenerationRequest) throws -> SamplingPlan {
        let config = model.networks.scheduler
        return try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: request.sampler.sampler,
                                schedule: request.sampler.schedule, steps: request.steps,
                                strength: request.initImage == nil ? nil : request.strength)
    }

    public func run(_ request: GenerationRequest, hooks: Hooks = Hooks()) throws -> GenerationResult {
        try validate(request)
        let nets = model.networks
        let plan = try plan(for: request)
        let n = request.batchSize
        let seeds = request.seeds
        let latentShape = [n, nets.vae.config.latentChannels, request.height / vaeScaleFactor, request.width / vaeScaleFactor]
        let guidance = ClassifierFreeGuidance(scale: request.cfgScale, rescale: request.guidanceRescale)

        // Conditioning, batched as diffusers: [uncond × N, cond × N].
        let context = try PromptEncoder(model: model).batchedContext(
            prompt: request.prompt, negative: request.negativePrompt, clipSkip: request.clipSkip, batch: n,
            withUnconditional: guidance.needsUnconditional)

        let noise = request.rng.makeNoise(seeds: seeds)
        var x: Tensor
        if let image = request.initImage {
            // diffusers' order: the posterior sample draws from the generator(s) first, then add_noise's noise.
            let sample = try Self.posteriorSample(of: image, vae: nets.vae, batch: n, noise: noise)
            x = Sampler.noisedLatent(plan: plan, x0: sample * nets.latentScale, noise: noise)
        } else {
            x = Sampler.initialLatent(plan: plan, shape: latentShape, noise: noise)
        }

        var unetSeconds = 0.0
        let unet = nets.unet
        let denoiser = ModelDenoiser(parameterization: Parameterization(plan.noiseSchedule.config.predictionType)) { input, t in
            let started = DispatchTime.now().uptimeNanoseconds
            defer { unetSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
            if guidance.needsUnconditional {
                let out = try unet.forward(latents: concat([input, input], axis: 0), timestep: Float(t), context: context)
                let halves = split(out, axis: 0, sizes: [n, n])
                return try guidance.combine(unconditional: halves[0], conditional: halves[1])
            }
            return try unet.forward(latents: input, timestep: Float(t), context: context)
        }
        let brownian: IntervalNoise? = plan.sampler == .dpmppSDE
            ? BrownianTreeNoise(plan: plan, shape: x.shape, seeds: seeds, rng: request.rng) : nil
        let loopStarted = DispatchTime.now().uptimeNanoseconds
        let latents: Tensor
        do {
            latents = try Sampler.sample(
                plan: plan, x: x, noise: noise, eta: request.eta, brownian: brownian, denoise: denoiser.function,
                hooks: SamplingHooks(isCancelled: hooks.isCancelled,
                                     onStep: { p in try hooks.onStep(PipelineStep(step: p.step, steps: p.steps, denoised: p.denoised)) },
                                     blend: hooks.blend))
        } catch SamplingError.cancelled(let step) {
            throw EngineError.cancelled(step: step)
        }
        let loopSeconds = Double(DispatchTime.now().uptimeNanoseconds - loopStarted) / 1e9
        x = latents

        let decoded = try nets.vae.decode(Self.map(latents) { $0 / nets.latentScale })
        let images = Self.map(decoded) { min(max($0 / 2 + 0.5, 0), 1) }
        return GenerationResult(latents: latents, images: images, decoded: decoded, seeds: seeds,
                                unetSeconds: unetSeconds, loopSeconds: loopSeconds)
    }

    /// A sample of the VAE's posterior for `image`, repeated for a batch of `batch` (unscaled latent units).
    /// Draws from `noise` now: diffusers' img2img/inpaint draw this before any add_noise noise.
    static func posteriorSample(of image: Tensor, vae: VAE, batch n: Int, noise: NoiseSource) throws -> Tensor {
        let (mean, logvar) = try vae.encode(image)
        let std = map(logvar * Float(0.5)) { expf($0) }
        let means = n == 1 ? mean : concat(Array(repeating: mean, count: n), axis: 0)
        let stds = n == 1 ? std : concat(Array(repeating: std, count: n), axis: 0)
        return means + stds * noise.randn(means.shape)
    }

    static func map(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        var out = x
        out.withUnsafeMutableBufferPointer { p in
            for i in p.indices { p[i] = f(p[i]) }
        }
        return out
    }
}
