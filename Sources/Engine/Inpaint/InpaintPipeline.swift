import Foundation
import Models
import Sampling
import Tensor

/// Inpainting on one resident model, computed as diffusers' `StableDiffusionInpaintPipeline` does and run by
/// `GenerationCore`; this type only prepares what differs from img2img — the start latents and noise draws,
/// the mask channels of 9-channel UNets (`InpaintUNetInput`), the latent blend of 4-channel ones.
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
    let core: GenerationCore

    /// `conditioner` replaces the model's own (`LoadedModel.conditioner`), e.g. one with other prompt rules.
    public init(model: LoadedModel, conditioner: (any Conditioner)? = nil) {
        self.model = model
        core = GenerationCore(model: model, conditioner: conditioner)
    }

    /// The UNet takes mask + masked-image latents (a dedicated inpainting model).
    public var isNineChannel: Bool { model.networks.unet.config.inChannels == model.networks.vae.config.latentChannels * 2 + 1 }

    /// - Parameters:
    ///   - request: as img2img: `initImage` [1, 3, H, W] in [-1, 1] is required, `strength` in (0, 1].
    ///   - mask: [1, 1, H, W] in [0, 1], 1 = repaint. Binarised here at 0.5, as diffusers' mask processor does.
    ///   - blend: `.soft` releases latent pixels by grey level (differential diffusion) and then uses the
    ///     feathered mask unbinarised; `.hard` is diffusers' behaviour.
    public func run(_ request: GenerationRequest, mask pixelMask: Tensor, blend: InpaintLatentBlend.Mode = .hard,
                    latentFill: InpaintFill = .original, refiner: RefinerHandoff? = nil,
                    hooks: StableDiffusionPipeline.Hooks = StableDiffusionPipeline.Hooks()) throws -> GenerationResult {
        try validate(request, mask: pixelMask)
        if let refiner { try core.validate(refiner: refiner, for: request, plainRefinerAllowed: isNineChannel) }
        // The sampling plan of img2img with this strength (txt2img's when strength is 1, as diffusers).
        let plan = try core.plan(for: request, strength: request.strength)
        // The mask input and the blend are built on the whole plan and serve every stage (the core maps each
        // stage's steps onto it); the refiner must take the same UNet inputs (validated above).
        let plainRefiner = refiner.map { $0.model.networks.unet.config.inChannels != model.networks.unet.config.inChannels } ?? false
        let start = try prepare(request, mask: pixelMask, blend: blend, latentFill: latentFill, plan: plan,
                                plainRefiner: plainRefiner)
        let stages = try core.stages(for: request, plan: plan, strength: request.strength, refiner: refiner)
        return try core.run(request, stages: stages, start: start, hooks: hooks)
    }

    /// The stages `run` samples for `request` (its size does not matter): for a result's step counts.
    public func stages(for request: GenerationRequest, refiner: RefinerHandoff?) throws -> [GenerationStage] {
        try core.stages(for: request, plan: try core.plan(for: request, strength: request.strength),
                        strength: request.strength, refiner: refiner)
    }

    func validate(_ request: GenerationRequest, mask pixelMask: Tensor) throws {
        let latentChannels = model.networks.vae.config.latentChannels
        guard model.networks.unet.config.inChannels == latentChannels || isNineChannel else {
            throw EngineError.unsupportedModel(name: model.name,
                reason: "its UNet takes \(model.networks.unet.config.inChannels) channels; inpainting needs \(latentChannels) or \(2 * latentChannels + 1)")
        }
        guard let image = request.initImage else {
            throw EngineError.invalidParameter(field: "image", reason: "inpainting needs the image to repaint")
        }
        try core.validate(request)
        let (h, w) = (request.height, request.width)
        guard image.shape == [1, 3, h, w] else {
            throw EngineError.invalidParameter(field: "image", reason: "expected a [1, 3, \(h), \(w)] tensor, got \(image.shape)")
        }
        guard pixelMask.shape == [1, 1, h, w] else {
            throw EngineError.invalidParameter(field: "mask", reason: "expected a [1, 1, \(h), \(w)] tensor, got \(pixelMask.shape)")
        }
        guard request.strength > 0, request.strength <= 1 else {
            throw EngineError.invalidParameter(field: "strength", reason: "must be in (0, 1]")
        }
    }

    /// Start latents, the draws in the order documented above, the 9-channel input and the blend.
    func prepare(_ request: GenerationRequest, mask pixelMask: Tensor, blend: InpaintLatentBlend.Mode,
                 latentFill: InpaintFill, plan: SamplingPlan, plainRefiner: Bool = false) throws -> GenerationStart {
        guard let image = request.initImage else {
            throw EngineError.invalidParameter(field: "image", reason: "inpainting needs the image to repaint")
        }
        let nets = model.networks
        let (h, w) = (request.height, request.width)
        let n = request.batchSize
        let factor = core.vaeScaleFactor
        let latentShape = core.latentShape(for: request)

        let binaryMask = blend == .soft ? pixelMask : LatentInpaintMask.binarized(pixelMask)
        let latentMask = resizeNearest(binaryMask, height: h / factor, width: w / factor)
        let noise = request.rng.makeNoise(seeds: request.seeds)

        /// A posterior sample of `pixels` scaled to latent units, drawing from the generator(s) now.
        func encodeSample(_ pixels: Tensor) throws -> Tensor {
            try core.posteriorSample(of: pixels, batch: n, noise: noise) * nets.latentScale
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

        var start = GenerationStart(latents: x, noise: noise)
        if let adapters = try core.adapterInput(for: request, plan: plan) { start.extensions.append(adapters) }
        if isNineChannel {
            start.extensions.append(InpaintUNetInput(mask: latentMask, maskedImageLatents: maskedLatents))
        }
        // 4-channel models keep the known region on the re-noised original every step (diffusers); 9-channel
        // ones are conditioned instead and only blend when soft inpainting asks for it. Soft blending on a
        // 9-channel model at strength 1 needs the original's latents, which diffusers never samples there:
        // take the posterior mean so the generator's draw order stays diffusers'.
        // A plain refiner after a 9-channel base blends in its own stage, as a 4-channel model would (A1111's
        // refiner switch keeps the mask); the base stage stays conditioned only.
        if !isNineChannel || blend == .soft || plainRefiner {
            let original = try imageLatents ?? core.posteriorMean(of: image, batch: n) * nets.latentScale
            let latentBlend = try InpaintLatentBlend(mask: latentMask, original: original, noise: eps, sigmas: plan.sigmas,
                                                     mode: blend, outputScale: plan.outputScale)
            start.blend = { x, i in try latentBlend(x, i) }
            if isNineChannel, blend != .soft {
                let conditioned = model.networks.unet.config.inChannels
                start.blendApplies = { unet in unet.inChannels != conditioned }
            }
        }
        return start
    }
}
