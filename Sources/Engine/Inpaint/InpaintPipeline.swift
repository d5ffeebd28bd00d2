import Foundation
import Models
import Sampling
import Tensor

/// Inpainting on one resident model, computed as diffusers' `StableDiffusionInpaintPipeline` does and driven by
/// the one sampling loop of the Sampling module (`Sampler.sample`); this type only prepares what differs from
/// img2img — the mask conditioning of 9-channel UNets, the latent blend of 4-channel ones — and passes it in.
///
/// Generator draw order (per image, each image its own generator as in `StableDiffusionPipeline`):
/// 1. the VAE posterior sample of the image, when the UNet has 4 channels or strength < 1
///    (diffusers' `prepare_latents` encodes it only then),
/// 2. the noise tensor ε (the start latent: ε·init_noise_sigma at strength 1, else add_noise(x0, ε, t_start)),
/// 3. the VAE posterior sample of the masked image (diffusers' `prepare_mask_latents` always encodes it; only
///    9-channel UNets use it, but the draw happens for both, so ancestral samplers see the same state),
/// then the samplers' own step noise.
///
/// The output is the unpasted model result (as diffusers returns it); the pixel-exact composite with the
/// original is the caller's final step (`InpaintRegion.pasteBack`).
///
/// Where this differs from diffusers (everything else is the same algorithm, tested to ~1e-6 relative):
/// - `blend: .soft` (differential diffusion) does not exist there; 9-channel models then also get the blend.
/// - `latentFill` (A1111's latent noise / latent nothing) does not exist there; it draws after diffusers' draws.
/// - 9-channel soft blending at strength 1 uses the posterior mean of the image (diffusers samples no image
///   latents in that case, and drawing one would shift every later draw).
public struct InpaintPipeline {
    public let model: LoadedModel

    public init(model: LoadedModel) {
        self.model = model
    }

    /// The UNet takes mask + masked-image latents (a dedicated inpainting model).
    public var isNineChannel: Bool { model.networks.unet.config.inChannels == model.networks.vae.config.latentChannels * 2 + 1 }

    /// - Parameters:
    ///   - request: as img2img: `initImage` [1, 3, H, W] in [-1, 1] is required, `strength` in (0, 1].
    ///   - mask: [1, 1, H, W] in [0, 1], 1 = repaint. Binarised here at 0.5, as diffusers' mask processor does.
    ///   - blend: `.soft` releases latent pixels by grey level (differential diffusion) and then uses the
    ///     feathered mask unbinarised; `.hard` is diffusers' behaviour.
    public func run(_ request: GenerationRequest, mask pixelMask: Tensor, blend: InpaintLatentBlend.Mode = .hard,
                    latentFill: InpaintFill = .original, hooks: StableDiffusionPipeline.Hooks = StableDiffusionPipeline.Hooks()) throws -> GenerationResult {
        let nets = model.networks
        let latentChannels = nets.vae.config.latentChannels
        guard nets.unet.config.inChannels == latentChannels || isNineChannel else {
            throw EngineError.unsupportedModel(name: model.name,
                reason: "its UNet takes \(nets.unet.config.inChannels) channels; inpainting needs \(latentChannels) or \(2 * latentChannels + 1)")
        }
        guard let image = request.initImage else {
            throw EngineError.invalidParameter(field: "image", reason: "inpainting needs the image to repaint")
        }
        let (h, w) = (request.height, request.width)
        let maxSide = StableDiffusionPipeline.maxSide
        guard w > 0, h > 0, w % 8 == 0, h % 8 == 0, w <= maxSide, h <= maxSide else {
            throw EngineError.invalidSize(width: w, height: h, reason: "width and height must be positive multiples of 8 up to \(maxSide)")
        }
        guard image.shape == [1, 3, h, w] else {
            throw EngineError.invalidParameter(field: "image", reason: "expected a [1, 3, \(h), \(w)] tensor, got \(image.shape)")
        }
        guard pixelMask.shape == [1, 1, h, w] else {
            throw EngineError.invalidParameter(field: "mask", reason: "expected a [1, 1, \(h), \(w)] tensor, got \(pixelMask.shape)")
        }
        guard request.strength > 0, request.strength <= 1 else {
            throw EngineError.invalidParameter(field: "strength", reason: "must be in (0, 1]")
        }
        guard (1...64).contains(request.batchSize) else {
            throw EngineError.invalidParameter(field: "batch_size", reason: "must be in 1...64")
        }

        // The sampling plan of img2img with this strength (txt2img's when strength is 1, as diffusers).
        let config = nets.scheduler
        let plan = try SamplingPlan(noiseSchedule: NoiseSchedule(config: config), sampler: request.sampler.sampler,
                                    schedule: request.sampler.schedule, steps: request.steps, strength: request.strength)
        let n = request.batchSize
        let factor = 1 << max(nets.vae.config.blockOutChannels.count - 1, 0)
        let latentShape = [n, latentChannels, h / factor, w / factor]
        let guidance = ClassifierFreeGuidance(scale: request.cfgScale, rescale: request.guidanceRescale)

        let context = try PromptEncoder(model: model).batchedContext(
            prompt: request.prompt, negative: request.negativePrompt, clipSkip: request.clipSkip, batch: n,
            withUnconditional: guidance.needsUnconditional)

        let binaryMask = blend == .soft ? pixelMask : LatentInpaintMask.binarized(pixelMask)
        let latentMask = resizeNearest(binaryMask, height: h / factor, width: w / factor)
        let noise = request.rng.makeNoise(seeds: request.seeds)

        /// A posterior sample of `pixels` scaled to latent units, drawing from the generator(s) now.
        func encodeSample(_ pixels: Tensor) throws -> Tensor {
            try StableDiffusionPipeline.posteriorSample(of: pixels, vae: nets.vae, batch: n, noise: noise) * nets.latentScale
        }
        let fullStrength = request.strength >= 1
        var imageLatents: Tensor? = (!isNineChannel || !fullStrength) ? try encodeSample(image) : nil
        let eps = noise.randn(latentShape)
        var x: Tensor
        if let x0 = imageLatents, !fullStrength {
            x = Sampler.addNoise(x0, noise: eps, sigma: plan.startSigma)
        } else {
            x = eps * Float(plan.initialNoiseScale)
        }
        let maskedImage = try LatentInpaintMask.maskedImage(image, mask: LatentInpaintMask.binarized(pixelMask))
        let maskedLatents = try encodeSample(maskedImage)
        // A1111's latent fills replace the original's latents under the mask before they are noised. Not in
        // diffusers; the fill's own noise is drawn after all of diffusers' draws so the rest stays comparable.
        if latentFill == .latentNoise || latentFill == .latentNothing, let x0 = imageLatents {
            let replacement = latentFill == .latentNoise ? noise.randn(x0.shape) : Tensor(shape: x0.shape)
            let filled = try LatentFill.apply(x0, mask: latentMask, replacement: replacement)
            imageLatents = filled
            if !fullStrength { x = Sampler.addNoise(filled, noise: eps, sigma: plan.startSigma) }
        }

        let unet = nets.unet
        let nine = isNineChannel
        var unetSeconds = 0.0
        let denoiser = ModelDenoiser(parameterization: Parameterization(plan.noiseSchedule.config.predictionType)) { input, t in
            let started = DispatchTime.now().uptimeNanoseconds
            defer { unetSeconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
            let batch = guidance.needsUnconditional ? concat([input, input], axis: 0) : input
            let unetInput = nine
                ? try LatentInpaintMask.unetInput(latents: batch, mask: latentMask,
                                                  maskedImageLatents: guidance.needsUnconditional
                                                      ? concat([maskedLatents, maskedLatents], axis: 0) : maskedLatents)
                : batch
            let out = try unet.forward(latents: unetInput, timestep: Float(t), context: context)
            if guidance.needsUnconditional {
                let halves = split(out, axis: 0, sizes: [n, n])
                return try guidance.combine(unconditional: halves[0], conditional: halves[1])
            }
            return out
        }

        // 4-channel models keep the known region on the re-noised original every step (diffusers); 9-channel
        // ones are conditioned instead and only blend when soft inpainting asks for it.
        var blendHook = hooks.blend
        if !nine || blend == .soft {
            let original = try imageLatents ?? encodeSampleWithoutDraw(image)
            let latentBlend = try InpaintLatentBlend(mask: latentMask, original: original, noise: eps, sigmas: plan.sigmas,
                                                     mode: blend, outputScale: plan.outputScale)
            let outer = hooks.blend
            blendHook = { x, i in
                let blended = try latentBlend(x, i)
                return try outer?(blended, i) ?? blended
            }
        }
        let brownian: IntervalNoise? = plan.sampler == .dpmppSDE
            ? BrownianTreeNoise(plan: plan, shape: x.shape, seeds: request.seeds, rng: request.rng) : nil
        let loopStarted = DispatchTime.now().uptimeNanoseconds
        let latents: Tensor
        do {
            latents = try Sampler.sample(
                plan: plan, x: x, noise: noise, eta: request.eta, brownian: brownian, denoise: denoiser.function,
                hooks: SamplingHooks(isCancelled: hooks.isCancelled,
                                     onStep: { p in try hooks.onStep(PipelineStep(step: p.step, steps: p.steps, denoised: p.denoised)) },
                                     blend: blendHook))
        } catch SamplingError.cancelled(let step) {
            throw EngineError.cancelled(step: step)
        }
        let loopSeconds = Double(DispatchTime.now().uptimeNanoseconds - loopStarted) / 1e9
        x = latents
        let decoded = try nets.vae.decode(StableDiffusionPipeline.map(latents) { $0 / nets.latentScale })
        let images = StableDiffusionPipeline.map(decoded) { min(max($0 / 2 + 0.5, 0), 1) }
        return GenerationResult(latents: latents, images: images, decoded: decoded, seeds: request.seeds,
                                unetSeconds: unetSeconds, loopSeconds: loopSeconds)

        /// Soft blending on a 9-channel model at strength 1 needs the original's latents, which diffusers never
        /// samples there: take the posterior mean so the generator's draw order stays diffusers'.
        func encodeSampleWithoutDraw(_ pixels: Tensor) throws -> Tensor {
            let (mean, _) = try nets.vae.encode(pixels)
            let means = n == 1 ? mean : concat(Array(repeating: mean, count: n), axis: 0)
            return means * nets.latentScale
        }
    }
}
